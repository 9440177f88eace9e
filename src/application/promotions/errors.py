"""Promotion errors raised by the application and the promotion stores (the domain's stay in domain.promotions)."""

from __future__ import annotations

from domain.shared.errors import Conflict

__all__ = ["CouponExhausted", "PromotionExhausted"]


class CouponExhausted(Conflict):
    """The coupon reached its usage limit (perhaps a moment ago, in another checkout)."""


class PromotionExhausted(Conflict):
    """The promotion reached its budget or redemption limit."""
