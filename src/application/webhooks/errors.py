"""Webhook errors: every error class the outbound webhook use cases raise of their own."""

from __future__ import annotations

from application.ports.webhooks import WebhookUnreachable

__all__ = ["DeliveryFailed", "HostNotFound", "TargetRefused"]


class DeliveryFailed(Exception):
    """The subscriber answered non-2xx or not at all; raised so the broker retries."""


class HostNotFound(Exception):
    """The subscriber's host name resolves to no address (today: DNS may answer tomorrow)."""


class TargetRefused(WebhookUnreachable):
    """We never send to this target: its URL breaks the rules or its host resolves to a blocked address.

    ``str(error)`` is a short fixed reason for the delivery log (``blocked address``, ``https required``,
    ``invalid url``); ``explanation`` tells the owner why, when they register the URL. A refusal is
    permanent: the delivery fails at once instead of being retried."""

    def __init__(self, reason: str, explanation: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.explanation = explanation
