from __future__ import annotations

import msgspec


class Funnel(msgspec.Struct, frozen=True, kw_only=True):
    """Distinct shoppers (anonymous ids) reaching each step."""

    viewed: int
    added_to_cart: int
    checkout_started: int
    paid: int


class TermCount(msgspec.Struct, frozen=True, kw_only=True):
    term: str
    searches: int
    shoppers: int


class ProductViews(msgspec.Struct, frozen=True, kw_only=True):
    product_id: str
    views: int
    shoppers: int
