"""Payment errors: every error class the payments context raises of its own."""

from __future__ import annotations

from domain.shared.errors import Conflict, InvalidInput, NotFound

__all__ = ["OnlinePaymentRequired", "PayLaterNotOffered", "TooManyUnpaidOrders", "UnknownWebhookProvider"]


class UnknownWebhookProvider(NotFound):
    """A provider webhook arrived for a payment provider that is not configured; the message is the title."""


class PayLaterNotOffered(InvalidInput):
    """The sales channel takes no pay-later (manual) payment; the message is the problem's title."""


class OnlinePaymentRequired(PayLaterNotOffered):
    """The cart holds SKUs that only an online payment may buy; ``skus`` names them."""

    def __init__(self, skus: list[str]) -> None:
        self.skus = skus
        super().__init__(f"pay online: {', '.join(skus)} cannot be paid later")


class TooManyUnpaidOrders(Conflict):
    """The shopper has as many pay-later orders open (or units promised by them) as the shop allows."""
