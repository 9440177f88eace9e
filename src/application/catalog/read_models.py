"""Read-side documents returned by catalog queries (serialised by the HTTP layer as they are)."""

from __future__ import annotations

import msgspec


class PriceView(msgspec.Struct, frozen=True, kw_only=True):
    amount: int
    currency: str
    display: str


class ProductDocument(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    slug: str
    name: str
    sku: str
    price: PriceView
    version: int
