"""What an order refuses."""

from __future__ import annotations

from domain.shared.errors import Conflict, InvalidInput


class InvalidTransition(Conflict):
    """The order's state does not allow this (shipping a cancelled order, paying twice …)."""


class RefundTooLarge(InvalidInput):
    """A refund above what was captured and not yet refunded."""
