"""Search errors: every error class the search use cases raise of their own."""

from __future__ import annotations

from domain.shared.errors import InvalidInput

__all__ = ["BadSearch", "UnknownSearchFilter"]


class BadSearch(InvalidInput):
    """The search request cannot be run as asked (a bad sort, an inverted price range)."""


class UnknownSearchFilter(InvalidInput):
    """A search was asked to filter on a parameter it does not know."""
