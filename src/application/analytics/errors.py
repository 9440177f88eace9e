"""Analytics errors: storefront tracking and staff reports."""

from __future__ import annotations

from domain.shared.errors import DomainError, InvalidInput

__all__ = ["InvalidReportRange", "TrackingRateLimited"]


class InvalidReportRange(InvalidInput):
    """A report's date range is inverted or too long."""


class TrackingRateLimited(DomainError):
    """One client sent too many tracking requests; the message is the problem's title."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
