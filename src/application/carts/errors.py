"""Cart errors: every error class the cart use cases raise of their own (the domain's stay in domain.carts)."""

from __future__ import annotations

from domain.carts.cart import CartError
from domain.shared.errors import DomainError, InvalidInput, NotFound

__all__ = ["CartNotFound", "NotPurchasable", "UnknownChannel", "UnknownCoupon", "UnknownSku"]


class CartNotFound(NotFound):
    """The shopper has no cart (or not this one)."""


class UnknownSku(InvalidInput):
    """No product sells this SKU."""


class NotPurchasable(CartError):
    """The SKU exists but cannot be bought now (archived, draft, no price in the cart's currency)."""


class UnknownCoupon(CartError):
    """No live promotion answers to this code."""


class UnknownChannel(InvalidInput):
    """No sales channel by this name."""


class CouponGuessesLimited(DomainError):
    """Too many coupon codes tried: wait ``retry_after`` seconds before the next one."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many coupon codes tried; retry in {retry_after} s")
        self.retry_after = retry_after
