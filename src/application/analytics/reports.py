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


class ProductSales(msgspec.Struct, frozen=True, kw_only=True):
    """Units and revenue (line totals as charged, minor units) of one SKU in paid orders."""

    sku: str
    currency: str
    orders: int
    units: int
    revenue: int


class PromotionImpact(msgspec.Struct, frozen=True, kw_only=True):
    """Discount one promotion version gave in paid orders, beside the revenue of those orders."""

    promotion_id: str
    version: int
    currency: str
    orders: int
    discount: int
    revenue: int  # the totals of the orders that used it, as charged
