"""Payment errors: every error class the payments context raises of its own."""

from __future__ import annotations

from domain.shared.errors import Conflict, InvalidInput, NotFound

__all__ = ["PayLaterNotOffered", "TooManyUnpaidOrders", "UnknownWebhookProvider"]


class UnknownWebhookProvider(NotFound):
    """A provider webhook arrived for a payment provider that is not configured; the message is the title."""


class PayLaterNotOffered(InvalidInput):
    """The sales channel takes no pay-later (manual) payment; the message is the problem's title."""


class TooManyUnpaidOrders(Conflict):
    """The shopper has as many pay-later orders open (or units promised by them) as the shop allows."""
