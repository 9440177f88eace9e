"""Staff errors: authenticating a bearer token and checking its role."""

from __future__ import annotations

from domain.shared.errors import DomainError, NotFound

__all__ = ["StaffForbidden", "StaffTokenNotFound", "StaffUnauthenticated"]


class StaffUnauthenticated(DomainError):
    """No staff bearer token, or an unknown or revoked one; the message is the problem's title."""


class StaffForbidden(DomainError):
    """The staff member's role may not do this; the message is the problem's title."""


class StaffTokenNotFound(NotFound):
    """No such token, or it is revoked already."""
