"""Checkout errors: every error class the checkout use cases raise of their own."""

from __future__ import annotations

from domain.shared.errors import Conflict, InvalidInput, NotFound

__all__ = ["CartHasIssues", "CheckoutNotFound", "EmptyCart", "UnknownPaymentProvider"]


class CheckoutNotFound(NotFound):
    pass


class EmptyCart(InvalidInput):
    """There is nothing to check out."""


class CartHasIssues(Conflict):
    """Some cart line is unavailable: the shopper must review the cart first."""


class UnknownPaymentProvider(InvalidInput):
    pass
