"""Payment errors: every error class the payments context raises of its own."""

from __future__ import annotations

from domain.shared.errors import NotFound

__all__ = ["UnknownWebhookProvider"]


class UnknownWebhookProvider(NotFound):
    """A provider webhook arrived for a payment provider that is not configured; the message is the title."""
