"""Staff roles and what each may do."""

from __future__ import annotations

from enum import Enum


class Role(Enum):
    OWNER = "owner"
    MERCHANDISER = "merchandiser"
    FULFILMENT = "fulfilment"
    SUPPORT = "support"


def role_allows(role: Role, required: frozenset[Role]) -> bool:
    """The owner may do everything; any other role only what names it."""
    return role is Role.OWNER or role in required
