"""What the engine prices: the cart's lines and the shopper's circumstances, already resolved to numbers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from domain.promotions.errors import InvalidPricingInput
from domain.shared.money import is_currency


@dataclass(frozen=True, slots=True, kw_only=True)
class PricingLine:
    """One cart line at its resolved unit price (integer minor units of the context's currency)."""

    sku: str
    product_id: str
    category_ids: frozenset[str] = frozenset()
    attributes: Mapping[str, str] = field(default_factory=dict)
    quantity: int
    unit_price: int

    def __post_init__(self) -> None:
        if isinstance(self.quantity, bool) or not isinstance(self.quantity, int) or self.quantity < 1:
            raise InvalidPricingInput(f"{self.sku}: quantity must be a positive integer")
        if isinstance(self.unit_price, bool) or not isinstance(self.unit_price, int) or self.unit_price < 0:
            raise InvalidPricingInput(f"{self.sku}: unit price must be zero or more minor units")

    @property
    def subtotal(self) -> int:
        return self.quantity * self.unit_price


@dataclass(frozen=True, slots=True, kw_only=True)
class PricingContext:
    lines: tuple[PricingLine, ...]
    currency: str
    channel: str | None = None
    customer_id: str | None = None
    customer_groups: frozenset[str] = frozenset()
    first_order: bool = False
    coupon_codes: frozenset[str] = frozenset()
    at: datetime
    shipping: int = 0

    def __post_init__(self) -> None:
        if not is_currency(self.currency):
            raise InvalidPricingInput(f"unsupported currency {self.currency!r}")
        if self.at.utcoffset() is None:
            raise InvalidPricingInput("the pricing moment must be timezone-aware")
        if isinstance(self.shipping, bool) or not isinstance(self.shipping, int) or self.shipping < 0:
            raise InvalidPricingInput("shipping must be zero or more minor units")

    @property
    def subtotal(self) -> int:
        return sum(line.subtotal for line in self.lines)

    def has_coupon(self, code: str) -> bool:
        """Coupon codes compare case-insensitively: shoppers type them as they like."""
        wanted = code.casefold()
        return any(entered.casefold() == wanted for entered in self.coupon_codes)
