"""What a cart read returns: every figure recomputed now, with the reasons behind it."""

from __future__ import annotations

from typing import Literal

import msgspec

# What inventory says of a line's SKU now (a bundle: of its scarcest component). ``sold_out``
# lines cannot be paid for; ``backorder`` and ``untracked`` ones can, with no stock behind them.
StockStatus = Literal["in_stock", "low", "sold_out", "backorder", "untracked"]


class AdjustmentView(msgspec.Struct, frozen=True, kw_only=True):
    promotion_id: str
    version: int
    label: str
    amount: int


class CartLineView(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    sku: str
    product_id: str | None
    name: str | None
    quantity: int
    unit_price: int | None
    subtotal: int
    discount: int
    total: int
    available: bool
    stock: StockStatus
    reason: str | None = None  # why the line is not available (archived, no price, sold out)
    price_changed: bool = False
    previous_unit_price: int | None = None
    adjustments: list[AdjustmentView] = []


class CouponView(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    applied: bool
    reason: str | None = None


class TaxEstimate(msgspec.Struct, frozen=True, kw_only=True):
    amount: int
    included: bool  # True: already part of the prices (VAT); False: added on top (sales tax)
    country: str
    region: str | None = None


class CartView(msgspec.Struct, frozen=True, kw_only=True):
    id: str | None
    currency: str
    channel: str
    lines: list[CartLineView]
    coupons: list[CouponView]
    order_adjustments: list[AdjustmentView]
    item_count: int
    subtotal: int
    discount: int
    tax: TaxEstimate
    total: int
    version: int
    has_issues: bool  # some line is unavailable or changed price since the shopper saw it
    shipping_discount: int = 0  # at checkout, when the shipping price is known
    shipping_adjustments: list[AdjustmentView] = []


class MergeView(msgspec.Struct, frozen=True, kw_only=True):
    added: list[str]
    combined: list[str]
    capped: list[str]
    skipped: list[str]
    coupons: list[str]
