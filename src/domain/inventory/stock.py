"""The StockItem aggregate: the units of one SKU at one location.

``on_hand`` counts what is physically there; of it, ``reserved`` is held for checkouts not yet
paid and ``committed`` belongs to paid orders not yet shipped; the rest is ``available``. A
shipment takes committed units out of on-hand, so a stock count (an adjustment) always
compares with what is on the shelves.

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
    """One append-only ledger entry: how on-hand, reserved and committed changed, who did it and why."""

    sku: str
    location_id: str
    kind: MovementKind
    on_hand_delta: int
    reserved_delta: int
    committed_delta: int = 0
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
    committed: int = 0
    # Units available here before the transaction's first change (None in events recorded before it was
    # carried): whether this change crossed zero, i.e. could change whether the SKU is on sale at all.
    available_before: int | None = None

    @property
    def crossed_zero(self) -> bool:
        """Whether this location went from none available to some, or from some to none (or unknown)."""
        if self.available_before is None:
            return True
        return (self.available_before > 0) != (self.on_hand - self.reserved - self.committed > 0)


def fold(movements: list[Movement]) -> tuple[int, int, int]:
    """The balance the ledger implies: (on_hand, reserved, committed)."""
    return (
        sum(m.on_hand_delta for m in movements), sum(m.reserved_delta for m in movements),
        sum(m.committed_delta for m in movements),
    )


def _check_quantity(quantity: int) -> None:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        raise InventoryError("quantity must be a positive whole number")


class StockItem(Aggregate):
    """Units of ``sku`` at ``location_id``. Invariant: 0 ≤ reserved, 0 ≤ committed,
    reserved + committed ≤ on_hand."""

    _available_before: int  # set by the first movement not yet announced; read when it is announced

    def __init__(
        self, *, sku: str, location_id: str, on_hand: int = 0, reserved: int = 0, committed: int = 0,
        version: int = 0,
    ) -> None:
        self.sku = sku
        self.location_id = location_id
        self.on_hand = on_hand
        self.reserved = reserved
        self.committed = committed
        self.version = version
        self.events = []
        self.movements: list[Movement] = []
        self._changed: tuple[str, datetime] | None = None  # last movement kind and time, not yet announced

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved - self.committed

    def _move(
        self, kind: MovementKind, on_hand_delta: int, reserved_delta: int, committed_delta: int = 0, *,
        actor: str, reason: str, reference: str, now: datetime,
    ) -> None:
        if self._changed is None:
            self._available_before = self.available
        on_hand, reserved = self.on_hand + on_hand_delta, self.reserved + reserved_delta
        committed = self.committed + committed_delta
        if reserved < 0 or committed < 0 or on_hand < reserved + committed:
            raise InsufficientStock(
                f"{self.sku}@{self.location_id}: {kind.value} would leave on_hand={on_hand} reserved={reserved}"
                f" committed={committed}"
            )
        self.on_hand, self.reserved, self.committed = on_hand, reserved, committed
        self.version += 1
        self.movements.append(
            Movement(
                sku=self.sku, location_id=self.location_id, kind=kind, on_hand_delta=on_hand_delta,
                reserved_delta=reserved_delta, committed_delta=committed_delta, actor=actor, reason=reason,
                reference=reference, occurred_at=now,
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
        """The reserved units are sold: they stay on the shelf, committed to the order, until shipped."""
        self._move(
            MovementKind.COMMITTED, 0, -quantity, quantity, actor="system", reason="paid", reference=reservation_id,
            now=now,
        )

    def ship(self, quantity: int, *, actor: str, reservation_id: str, now: datetime) -> None:
        """Committed units leave the building: out of committed and out of on-hand."""
        self._move(
            MovementKind.SHIPPED, -quantity, 0, -quantity, actor=actor, reason="shipped", reference=reservation_id,
            now=now,
        )

    def uncommit(self, quantity: int, *, actor: str, reservation_id: str, now: datetime) -> None:
        """A paid order was cancelled before shipping: its committed units are for sale again."""
        self._move(
            MovementKind.RELEASED, 0, 0, -quantity, actor=actor, reason="order cancelled", reference=reservation_id,
            now=now,
        )

    def give_back(self, quantity: int, *, actor: str, reference: str, now: datetime) -> None:
        """Units shipped earlier come back onto the shelf (a return)."""
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
                committed=self.committed, available_before=self._available_before,
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
    """A stock item whose balance row disagrees with the fold of its ledger, or with the
    reservations that hold its units (active ones make up ``reserved``, committed ones
    ``committed``) — a hold closed without its units moving, or units moved without a hold."""

    sku: str
    location_id: str
    on_hand: int
    reserved: int
    ledger_on_hand: int
    ledger_reserved: int
    committed: int = 0
    ledger_committed: int = 0
    holds_reserved: int = 0
    holds_committed: int = 0
