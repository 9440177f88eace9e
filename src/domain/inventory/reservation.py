"""Reservations: units held for a checkout until paid (commit), abandoned (release) or timed out (expire).

A hold closes exactly once; repeating the same closing is a harmless no-op, and a different
closing of a closed hold is refused — so units are never both sold and freed. A committed
reservation then ships once (its units leave on-hand) or, if the order is cancelled first,
returns its units to sale once.

    active ──commit──▶ committed ──ship──▶ shipped
      │                    │                  │
      ├─release/expire     └──give_back──▶ returned ◀──give_back (a return)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from domain.inventory.errors import InventoryError, OutOfStock, ReservationClosed
from domain.inventory.stock import StockItem
from domain.shared.events import Aggregate, DomainEvent

BACKORDER = "backorder"  # location id of lines promised without stock behind them


class ReservationStatus(Enum):
    ACTIVE = "active"
    COMMITTED = "committed"
    RELEASED = "released"
    EXPIRED = "expired"
    SHIPPED = "shipped"  # committed units left the building with the order
    RETURNED = "returned"  # committed or shipped, then the units came back


@dataclass(frozen=True, slots=True, kw_only=True)
class SkuPolicy:
    """How inventory treats a SKU: untracked SKUs are never held; backorder SKUs may oversell on purpose."""

    sku: str
    track_inventory: bool = True
    allow_backorder: bool = False
    low_stock_threshold: int = 5
    show_quantity: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ReservationLine:
    sku: str
    location_id: str
    quantity: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ReservationPlaced(DomainEvent):
    topic = "inventory.reservation_placed.v1"
    reference: str
    lines: tuple[ReservationLine, ...]
    expires_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class ReservationClosedEvent(DomainEvent):
    topic = "inventory.reservation_closed.v1"
    reference: str
    status: str
    lines: tuple[ReservationLine, ...]


def _key(sku: str, location_id: str) -> tuple[str, str]:
    return sku, location_id


class Reservation(Aggregate):
    def __init__(
        self, *, id: str, reference: str, lines: list[ReservationLine], status: ReservationStatus,
        expires_at: datetime, created_at: datetime, version: int = 0,
    ) -> None:
        self.id = id
        self.reference = reference
        self.lines = lines
        self.status = status
        self.expires_at = expires_at
        self.created_at = created_at
        self.version = version
        self.events = []

    @classmethod
    def place(
        cls, *, id: str, reference: str, requested: dict[str, int], stock: dict[str, list[StockItem]],
        policies: dict[str, SkuPolicy], now: datetime, ttl: timedelta,
    ) -> Reservation:
        """Hold ``requested`` units (SKU → quantity), drawing on locations in the order given.

        All or nothing: if any SKU falls short, nothing is held and ``OutOfStock`` names them.
        """
        if not requested:
            raise InventoryError("a reservation needs at least one line")
        plan: list[tuple[StockItem | None, str, int]] = []
        short: list[str] = []
        for sku in sorted(requested):
            quantity = requested[sku]
            if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
                raise InventoryError(f"quantity for {sku} must be a positive whole number")
            policy = policies.get(sku, SkuPolicy(sku=sku))
            if not policy.track_inventory:
                continue
            remaining = quantity
            for item in stock.get(sku, []):
                take = min(remaining, item.available)
                if take > 0:
                    plan.append((item, sku, take))
                    remaining -= take
            if remaining > 0:
                if policy.allow_backorder:
                    plan.append((None, sku, remaining))
                else:
                    short.append(sku)
        if short:
            raise OutOfStock(short)
        lines: list[ReservationLine] = []
        for source, sku, take in plan:
            if source is None:
                lines.append(ReservationLine(sku=sku, location_id=BACKORDER, quantity=take))
            else:
                source.reserve(take, reservation_id=id, now=now)
                lines.append(ReservationLine(sku=sku, location_id=source.location_id, quantity=take))
        reservation = cls(
            id=id, reference=reference, lines=lines, status=ReservationStatus.ACTIVE, expires_at=now + ttl,
            created_at=now, version=1,
        )
        reservation._record(
            ReservationPlaced(
                aggregate_id=id, aggregate_version=1, occurred_at=now, reference=reference, lines=tuple(lines),
                expires_at=reservation.expires_at,
            )
        )
        return reservation

    @property
    def held_lines(self) -> list[ReservationLine]:
        return [line for line in self.lines if line.location_id != BACKORDER]

    def stock_keys(self) -> list[tuple[str, str]]:
        """The (sku, location) rows this reservation holds, in lock order."""
        return sorted({_key(line.sku, line.location_id) for line in self.held_lines})

    def is_expired(self, now: datetime) -> bool:
        return self.status is ReservationStatus.ACTIVE and self.expires_at <= now

    def extend(self, until: datetime, *, now: datetime) -> None:
        """Keep the units longer (a payment is still open). Only an active, unexpired hold extends."""
        if self.status is not ReservationStatus.ACTIVE or self.expires_at <= now:
            raise ReservationClosed(f"reservation {self.id} is {self.status.value} or expired")
        if until > self.expires_at:
            self.expires_at = until
            self.version += 1

    def commit(self, items: dict[tuple[str, str], StockItem], *, now: datetime) -> bool:
        """Payment succeeded: the held units are sold. True if this call did it."""
        if self.status in (ReservationStatus.COMMITTED, ReservationStatus.SHIPPED):
            return False
        if self.status is not ReservationStatus.ACTIVE:
            raise ReservationClosed(f"reservation {self.id} was {self.status.value}; its units are gone")
        for line in self.held_lines:
            items[_key(line.sku, line.location_id)].commit(line.quantity, reservation_id=self.id, now=now)
        self._close(ReservationStatus.COMMITTED, now)
        return True

    def reclaim_and_commit(self, items: dict[tuple[str, str], StockItem], *, now: datetime) -> bool:
        """A payment arrived after the hold lapsed: sell the same units if they are still there.

        Idempotent like ``commit`` (False once committed); all or nothing — ``OutOfStock`` names
        the SKUs whose units were sold to someone else in the meantime."""
        if self.status in (ReservationStatus.ACTIVE, ReservationStatus.COMMITTED, ReservationStatus.SHIPPED):
            return self.commit(items, now=now)
        if self.status is ReservationStatus.RETURNED:  # the order was cancelled: nothing to secure
            raise ReservationClosed(f"reservation {self.id} was returned; its order is over")
        short = sorted({
            line.sku for line in self.held_lines if items[_key(line.sku, line.location_id)].available < line.quantity
        })
        if short:
            raise OutOfStock(short)
        for line in self.held_lines:
            item = items[_key(line.sku, line.location_id)]
            item.reserve(line.quantity, reservation_id=self.id, now=now)
            item.commit(line.quantity, reservation_id=self.id, now=now)
        self._close(ReservationStatus.COMMITTED, now)
        return True

    def ship(self, items: dict[tuple[str, str], StockItem], *, actor: str, now: datetime) -> bool:
        """The order left the warehouse: committed units go out of on-hand. True if this call did it.

        A hold not yet committed (the commit consumer is behind) is committed first, re-taken if
        it lapsed — ``OutOfStock`` if those units were sold to someone else meanwhile."""
        if self.status is ReservationStatus.SHIPPED:
            return False
        if self.status is ReservationStatus.RETURNED:
            raise ReservationClosed(f"reservation {self.id} was returned; its units are back on sale")
        if self.status is not ReservationStatus.COMMITTED:
            self.reclaim_and_commit(items, now=now)
        for line in self.held_lines:
            items[_key(line.sku, line.location_id)].ship(line.quantity, actor=actor, reservation_id=self.id, now=now)
        self._close(ReservationStatus.SHIPPED, now)
        return True

    def give_back(self, items: dict[tuple[str, str], StockItem], *, actor: str, now: datetime) -> bool:
        """The order was cancelled or sent back: a hold is released, committed units go back on
        sale, shipped units back onto the shelf. Once only."""
        if self.status is ReservationStatus.ACTIVE:
            return self.release(items, now=now)
        if self.status not in (ReservationStatus.COMMITTED, ReservationStatus.SHIPPED):
            return False
        for line in self.held_lines:
            item = items[_key(line.sku, line.location_id)]
            if self.status is ReservationStatus.COMMITTED:
                item.uncommit(line.quantity, actor=actor, reservation_id=self.id, now=now)
            else:
                item.give_back(line.quantity, actor=actor, reference=self.id, now=now)
        self._close(ReservationStatus.RETURNED, now)
        return True

    def release(self, items: dict[tuple[str, str], StockItem], *, now: datetime) -> bool:
        """The checkout was cancelled or payment failed: the units return to sale."""
        if self.status in (ReservationStatus.RELEASED, ReservationStatus.EXPIRED):
            return False
        if self.status in (ReservationStatus.COMMITTED, ReservationStatus.SHIPPED, ReservationStatus.RETURNED):
            raise ReservationClosed(f"reservation {self.id} was {self.status.value}; cancel the order instead")
        self._free(items, expired=False, now=now)
        self._close(ReservationStatus.RELEASED, now)
        return True

    def expire(self, items: dict[tuple[str, str], StockItem], *, now: datetime) -> bool:
        """The time ran out before payment. True if this call freed the units."""
        if not self.is_expired(now):
            return False
        self._free(items, expired=True, now=now)
        self._close(ReservationStatus.EXPIRED, now)
        return True

    def _free(self, items: dict[tuple[str, str], StockItem], *, expired: bool, now: datetime) -> None:
        for line in self.held_lines:
            items[_key(line.sku, line.location_id)].unreserve(
                line.quantity, reservation_id=self.id, expired=expired, now=now
            )

    def _close(self, status: ReservationStatus, now: datetime) -> None:
        self.status = status
        self.version += 1
        self._record(
            ReservationClosedEvent(
                aggregate_id=self.id, aggregate_version=self.version, occurred_at=now, reference=self.reference,
                status=status.value, lines=tuple(self.lines),
            )
        )


def availability_status(available: int, policy: SkuPolicy) -> str:
    """What a shopper is told: in_stock, low, sold_out — or backorder / untracked by policy."""
    if not policy.track_inventory:
        return "untracked"
    if available <= 0:
        return "backorder" if policy.allow_backorder else "sold_out"
    if available <= policy.low_stock_threshold:
        return "low"
    return "in_stock"


_RANK = {"sold_out": 0, "low": 1, "in_stock": 2, "backorder": 2, "untracked": 3}


def bundle_status(component_statuses: list[str]) -> str:
    """A bundle is only as available as its scarcest component."""
    if not component_statuses:
        return "unknown"
    worst = min(component_statuses, key=lambda s: _RANK.get(s, -1))
    return "in_stock" if worst in ("backorder", "untracked") else worst
