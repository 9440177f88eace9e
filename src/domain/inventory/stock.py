"""The StockItem aggregate: on hand and reserved units of one SKU at one location.

Every change is a movement appended to the ledger in the same transaction as the balance,
so the balance is a snapshot of the fold of the ledger — which reconciliation checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from domain.inventory.errors import InsufficientStock, InventoryError
from domain.shared.events import Aggregate, DomainEvent


class MovementKind(Enum):
    RECEIVED = "received"
    ADJUSTED = "adjusted"
    RESERVED = "reserved"
    RELEASED = "released"
    EXPIRED = "expired"
    COMMITTED = "committed"
    SHIPPED = "shipped"
    RETURNED = "returned"
    TRANSFERRED_OUT = "transferred_out"
    TRANSFERRED_IN = "transferred_in"


@dataclass(frozen=True, slots=True, kw_only=True)
class Movement:
    """One append-only ledger entry: how on-hand and reserved changed, who did it and why."""

    sku: str
    location_id: str
    kind: MovementKind
    on_hand_delta: int
    reserved_delta: int
    actor: str
    reason: str
    reference: str
    occurred_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class StockChanged(DomainEvent):
    topic = "inventory.stock_changed.v1"
    sku: str
    location_id: str
    on_hand: int
    reserved: int
    kind: str


def fold(movements: list[Movement]) -> tuple[int, int]:
    """The balance the ledger implies: (on_hand, reserved)."""
    return sum(m.on_hand_delta for m in movements), sum(m.reserved_delta for m in movements)


def _check_quantity(quantity: int) -> None:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        raise InventoryError("quantity must be a positive whole number")


class StockItem(Aggregate):
    """Units of ``sku`` at ``location_id``. Invariant: 0 ≤ reserved ≤ on_hand."""

    def __init__(self, *, sku: str, location_id: str, on_hand: int = 0, reserved: int = 0, version: int = 0) -> None:
        self.sku = sku
        self.location_id = location_id
        self.on_hand = on_hand
        self.reserved = reserved
        self.version = version
        self.events = []
        self.movements: list[Movement] = []
        self._changed: tuple[str, datetime] | None = None  # last movement kind and time, not yet announced

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved

    def _move(
        self, kind: MovementKind, on_hand_delta: int, reserved_delta: int, *,
        actor: str, reason: str, reference: str, now: datetime,
    ) -> None:
        on_hand, reserved = self.on_hand + on_hand_delta, self.reserved + reserved_delta
        if reserved < 0 or on_hand < reserved:
            raise InsufficientStock(
                f"{self.sku}@{self.location_id}: {kind.value} would leave on_hand={on_hand} reserved={reserved}"
            )
        self.on_hand, self.reserved = on_hand, reserved
        self.version += 1
        self.movements.append(
            Movement(
                sku=self.sku, location_id=self.location_id, kind=kind, on_hand_delta=on_hand_delta,
                reserved_delta=reserved_delta, actor=actor, reason=reason, reference=reference, occurred_at=now,
            )
        )
        self._changed = (kind.value, now)

    def receive(self, quantity: int, *, actor: str, reference: str = "", now: datetime) -> None:
        _check_quantity(quantity)
        self._move(MovementKind.RECEIVED, quantity, 0, actor=actor, reason="received", reference=reference, now=now)

    def adjust(self, delta: int, *, reason: str, actor: str, now: datetime) -> None:
        """Correct on-hand after a count, damage or loss; a reason is mandatory."""
        if not reason.strip():
            raise InventoryError("an adjustment needs a reason")
        if delta == 0:
            raise InventoryError("an adjustment must change the quantity")
        self._move(MovementKind.ADJUSTED, delta, 0, actor=actor, reason=reason, reference="", now=now)

    def reserve(self, quantity: int, *, reservation_id: str, now: datetime) -> None:
        _check_quantity(quantity)
        self._move(
            MovementKind.RESERVED, 0, quantity, actor="system", reason="checkout", reference=reservation_id, now=now
        )

    def unreserve(self, quantity: int, *, reservation_id: str, expired: bool, now: datetime) -> None:
        kind = MovementKind.EXPIRED if expired else MovementKind.RELEASED
        self._move(kind, 0, -quantity, actor="system", reason=kind.value, reference=reservation_id, now=now)

    def commit(self, quantity: int, *, reservation_id: str, now: datetime) -> None:
        """The reserved units are sold: they leave on-hand and the reservation together."""
        self._move(
            MovementKind.COMMITTED, -quantity, -quantity, actor="system", reason="paid", reference=reservation_id,
            now=now,
        )

    def give_back(self, quantity: int, *, actor: str, reference: str, now: datetime) -> None:
        """Units sold earlier come back (a return or a cancelled paid order)."""
        _check_quantity(quantity)
        self._move(MovementKind.RETURNED, quantity, 0, actor=actor, reason="returned", reference=reference, now=now)

    def transfer_out(self, quantity: int, *, actor: str, reference: str, now: datetime) -> None:
        _check_quantity(quantity)
        self._move(MovementKind.TRANSFERRED_OUT, -quantity, 0, actor=actor, reason="transfer", reference=reference,
                   now=now)

    def transfer_in(self, quantity: int, *, actor: str, reference: str, now: datetime) -> None:
        _check_quantity(quantity)
        self._move(MovementKind.TRANSFERRED_IN, quantity, 0, actor=actor, reason="transfer", reference=reference,
                   now=now)

    def pull_events(self) -> list[DomainEvent]:
        """One StockChanged per transaction with the final balance: every step is in the ledger,
        and readers of the event only need where the item ended up."""
        if self._changed is None:
            return []
        kind, at = self._changed
        self._changed = None
        return [
            StockChanged(
                aggregate_id=f"{self.sku}@{self.location_id}", aggregate_version=self.version, occurred_at=at,
                sku=self.sku, location_id=self.location_id, on_hand=self.on_hand, reserved=self.reserved, kind=kind,
            )
        ]

    def pull_movements(self) -> list[Movement]:
        pending, self.movements = self.movements, []
        return pending


@dataclass(frozen=True, slots=True, kw_only=True)
class Location:
    """A place stock is kept; lower ``priority`` is drawn on first when reserving."""

    id: str
    name: str
    priority: int = 100


@dataclass(frozen=True, slots=True, kw_only=True)
class Drift:
    """A stock item whose balance row disagrees with the fold of its ledger."""

    sku: str
    location_id: str
    on_hand: int
    reserved: int
    ledger_on_hand: int
    ledger_reserved: int
