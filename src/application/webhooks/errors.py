"""Webhook errors: every error class the outbound webhook use cases raise of their own."""

from __future__ import annotations

__all__ = ["DeliveryFailed"]


class DeliveryFailed(Exception):
    """The subscriber answered non-2xx or not at all; raised so the broker retries."""
