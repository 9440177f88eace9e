"""Checkout errors: every error class the checkout use cases raise of their own."""

from __future__ import annotations

from domain.shared.errors import Conflict, InvalidInput, NotFound

__all__ = [
    "CartHasIssues", "CheckoutNotFound", "CheckoutRecordNotFound", "EmptyCart", "IdempotencyKeyRequired",
    "UnknownPaymentProvider",
]


class CheckoutNotFound(NotFound):
    pass


class CheckoutRecordNotFound(NotFound):
    """No checkout has this id (raised by the checkout repositories).

    Reported as ``checkout-not-found`` titled "Not found", as before this class moved here from the PostgreSQL
    adapter; folding it into ``CheckoutNotFound`` would change that title to "No such checkout"."""


class IdempotencyKeyRequired(InvalidInput):
    """Placing an order needs an Idempotency-Key; the message is the problem's title."""


class EmptyCart(InvalidInput):
    """There is nothing to check out."""


class CartHasIssues(Conflict):
    """Some cart line is unavailable: the shopper must review the cart first."""


class UnknownPaymentProvider(InvalidInput):
    pass
