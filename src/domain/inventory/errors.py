from __future__ import annotations

from domain.shared.errors import Conflict, InvalidInput, NotFound


class InventoryError(InvalidInput):
    """An inventory rule was broken (a negative quantity, a missing reason)."""


class OutOfStock(Conflict):
    """Not enough units are available for the request; nothing was reserved."""

    def __init__(self, skus: list[str]) -> None:
        super().__init__(f"sold out: {', '.join(skus)}")
        self.skus = skus


class InsufficientStock(Conflict):
    """An adjustment or transfer would take on-hand below what is reserved or below zero."""


class ReservationNotFound(NotFound):
    pass


class ReservationClosed(Conflict):
    """The reservation was already committed, released or expired in another way."""


class UnknownLocation(NotFound):
    pass


class PurchaseLimitReached(Conflict):
    """The hold would give one buyer more units of a SKU than its drop allows one buyer; nothing was held."""

    def __init__(self, skus: list[str], limit: int) -> None:
        super().__init__(f"one buyer may buy at most {limit} of {', '.join(skus)}")
        self.skus = skus
        self.limit = limit
