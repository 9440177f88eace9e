from __future__ import annotations

from dataclasses import dataclass, field

from application.messaging.registry import Command
from domain.inventory.audit import ReconciliationRun


@dataclass(frozen=True, slots=True, kw_only=True)
class AddLocation(Command[str]):
    id: str
    name: str
    priority: int = 100


@dataclass(frozen=True, slots=True, kw_only=True)
class SetSkuPolicy(Command[None]):
    sku: str
    track_inventory: bool = True
    allow_backorder: bool = False
    low_stock_threshold: int = 5
    show_quantity: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ReceiveStock(Command[int]):
    sku: str
    location_id: str
    quantity: int
    actor: str
    reference: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class AdjustStock(Command[int]):
    sku: str
    location_id: str
    delta: int
    reason: str
    actor: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TransferStock(Command[str]):
    sku: str
    from_location: str
    to_location: str
    quantity: int
    actor: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ReserveStock(Command[str]):
    """Hold units for a checkout (``reference``). Lines of the same SKU add up; bundles arrive
    already expanded into their components."""

    reference: str
    lines: list[tuple[str, int]] = field(default_factory=list)
    ttl_seconds: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ExtendReservation(Command[None]):
    reservation_id: str
    seconds: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CommitReservation(Command[bool]):
    reservation_id: str
    reclaim: bool = False  # a late payment: re-take the units if the hold lapsed (OutOfStock if gone)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReleaseReservation(Command[bool]):
    reservation_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Reconcile(Command[ReconciliationRun]):
    batch_size: int = 500


@dataclass(frozen=True, slots=True, kw_only=True)
class ShipReservation(Command[bool]):
    """The order left the warehouse: its committed units go out of on-hand (once)."""

    reservation_id: str
    actor: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ReturnReservation(Command[bool]):
    """An order was cancelled or sent back: release its hold, put its committed units back on
    sale, or its shipped units back on hand (once)."""

    reservation_id: str
    actor: str
