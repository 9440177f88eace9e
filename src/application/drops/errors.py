"""What the drops' storefront calls refuse."""

from __future__ import annotations

from domain.shared.errors import Conflict, DomainError


class AdmissionRequired(DomainError):
    """A SKU behind an open drop's waiting room was asked for without an admission token."""

    def __init__(self, drop_id: str, message: str) -> None:
        super().__init__(message)
        self.drop_id = drop_id


class AdmissionRefused(DomainError):
    """The admission token sent is not good for this: forged, expired, another shopper's or another
    drop's, or already used by another checkout."""

    def __init__(self, drop_id: str, message: str) -> None:
        super().__init__(message)
        self.drop_id = drop_id


class DropNotOpen(Conflict):
    """The drop's SKUs cannot be bought yet (it opens later) or any more (it is over)."""


class NoWaitingRoom(Conflict):
    """The drop lets buyers straight in: there is no queue to join."""
