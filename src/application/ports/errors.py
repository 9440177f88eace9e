"""Errors any adapter may raise through any port, whatever its context."""

from __future__ import annotations

__all__ = ["NotLoaded", "Unavailable"]


class Unavailable(Exception):
    """A backing service cannot take the request now (the database pool is exhausted): retry shortly."""

    def __init__(self, message: str = "", *, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class NotLoaded(LookupError):
    """A repository was asked to save an aggregate its unit of work never loaded or added (a bug: the
    save has no version to expect)."""
