from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from application.inventory.read_models import Availability
from application.ports.unit_of_work import UnitOfWork
from domain.inventory.audit import ReconciliationRun
from domain.inventory.limits import Cap
from domain.inventory.reservation import Reservation, ReservationStatus, SkuPolicy
from domain.inventory.stock import Drift, Location, Movement, StockItem

StockKey = tuple[str, str]  # (sku, location_id)


@dataclass(frozen=True, slots=True)
class Placement:
    """What a group of new reservations is decided on, read under the stock row locks."""

    stock: dict[str, list[StockItem]]  # per SKU, locked, in allocation order
    policies: dict[str, SkuPolicy]
    held: set[str]  # the references that already hold an active reservation


@dataclass(frozen=True, slots=True)
class Closing:
    """What a group of reservations is closed on (committed, released, shipped …): the reservations
    and every stock row they hold, all locked (reservations first, then the rows in key order)."""

    reservations: dict[str, Reservation]  # by id; an unknown id is absent
    stock: dict[StockKey, StockItem]


class StockRepository(Protocol):
    async def lock(self, skus: Iterable[str]) -> dict[str, list[StockItem]]:
        """Lock every stock row of ``skus`` (in (sku, location) order, so carts never deadlock);
        each SKU's items come back in allocation order (location priority)."""
        ...

    async def lock_for_placement(self, skus: Iterable[str], references: list[str]) -> Placement:
        """``lock`` plus the SKUs' policies and which ``references`` already hold an active
        reservation, read after the locks — in one round trip where the store can."""
        ...

    async def lock_keys(self, keys: Iterable[StockKey]) -> dict[StockKey, StockItem]:
        """Lock exactly these rows, in key order."""
        ...

    async def lock_for_closing(self, unless: Mapping[str, Collection[ReservationStatus]]) -> Closing:
        """Lock these reservations (the keys), then the stock rows their lines hold — except those
        of a reservation whose status is in its ``unless`` (a repeated commit needs no stock row) —
        in one round trip where the store can: the stock rows of a sale are the hottest rows, the
        fewer round trips under their lock, the more buyers a second."""
        ...

    async def get_or_create(self, sku: str, location_id: str) -> StockItem:
        """The locked row, created empty if missing; ``UnknownLocation`` if the location is."""
        ...

    async def save(self, items: Iterable[StockItem]) -> None:
        """Write balances and append their pending movements, in the unit of work's transaction
        (a store may hold the writes back until the commit or its next read of the transaction)."""
        ...

    async def levels(self, sku: str) -> list[StockItem]: ...

    async def available(self, skus: Iterable[str]) -> dict[str, int]:
        """Units available per SKU over all locations (0 for unknown SKUs)."""
        ...

    async def movements(self, sku: str, limit: int) -> list[Movement]: ...

    async def drift(self) -> list[Drift]:
        """Stock items whose balance differs from the fold of their ledger."""
        ...

    async def policies(self, skus: Iterable[str]) -> dict[str, SkuPolicy]: ...

    async def set_policy(self, policy: SkuPolicy) -> None: ...

    async def add_location(self, location: Location) -> None: ...

    async def locations(self) -> list[Location]: ...

    async def tracked_skus(self) -> list[str]: ...


class ReservationRepository(Protocol):
    async def add(self, reservation: Reservation) -> None:
        """Stage a new reservation; a second active one for the same reference is a Conflict."""
        ...

    async def add_many(self, reservations: list[Reservation]) -> None:
        """Stage several new reservations at once (references already checked in this transaction)."""
        ...

    async def get(self, reservation_id: str) -> Reservation:
        """The reservation, locked for this transaction; ``ReservationNotFound`` otherwise."""
        ...

    async def save(self, reservation: Reservation) -> None:
        """Write its status, expiry and version in the unit of work's transaction (a store may hold
        the write back until the commit or its next read of the transaction)."""
        ...

    async def due_for_expiry(self, now: datetime, limit: int) -> list[str]:
        """Ids of active reservations past their expiry, skipping ones another worker holds."""
        ...

    async def in_flight(self, limit: int) -> list[Reservation]: ...

    async def count_in_flight(self) -> int: ...

    async def add_run(self, run: ReconciliationRun) -> None: ...

    async def last_run(self) -> ReconciliationRun | None: ...


class AvailabilityView(Protocol):
    async def refresh(self, sku: str) -> Availability:
        """Recompute the SKU's storefront availability from current stock and store it."""
        ...

    async def get(self, skus: Iterable[str]) -> dict[str, Availability]:
        """The projected rows of ``skus``; a SKU no stock event has reached yet has none."""
        ...

    async def get_all(self, skus: Iterable[str]) -> dict[str, Availability]:
        """One entry per asked SKU: its projected row, or — for a SKU without one (it never had
        stock, or its first stock event is not projected yet) — computed now from its stock
        (none: 0 available) and its policy (none: tracked), as a reservation would decide."""
        ...


class BuyerHoldings(Protocol):
    """What each buyer holds of a capped SKU (``domain.inventory.limits``), per reservation."""

    async def held(self, pairs: Collection[tuple[str, str]], *, excluding: str | None = None,
                   ) -> dict[tuple[str, str], int]:
        """Units of each (SKU, buyer) held by the reservations that still count — active (a lapsed one
        too, until the sweep expires it), committed or shipped — but ``excluding``; a pair holding
        nothing is left out. Read in the transaction that holds the SKUs' stock rows locked."""
        ...

    async def add(self, reservation_id: str, takes: Collection[tuple[Cap, int]]) -> None:
        """Record that the reservation holds these units under these caps, with it in this transaction."""
        ...

    async def caps_of(self, reservation_id: str) -> list[tuple[Cap, int]]:
        """The caps the reservation was placed under, with the units it holds under each."""
        ...


class InventoryUnitOfWork(UnitOfWork, Protocol):
    stock: StockRepository
    reservations: ReservationRepository
    availability_view: AvailabilityView
    holdings: BuyerHoldings


@dataclass(frozen=True, slots=True)
class GateAnswer:
    """What the gate knows: ``sold_out`` SKUs refuse at once; ``unknown`` ones have no counter yet."""

    sold_out: list[str] = field(default_factory=list)
    taken: dict[str, int] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)


class StockGate(Protocol):
    """A fast admission counter per SKU in front of PostgreSQL. It may say "no" wrongly for a
    moment (a stale low counter) or "yes" wrongly (then PostgreSQL refuses); it never sells."""

    async def try_take(self, requested: dict[str, int]) -> GateAnswer:
        """Atomically take units from every known counter, or none if any is short."""
        ...

    async def try_take_many(self, requests: list[dict[str, int]]) -> list[GateAnswer]:
        """``try_take`` for each request in order, in one round trip."""
        ...

    async def short(self, requested: dict[str, int]) -> list[str]:
        """The SKUs whose counter holds fewer units than asked, taking nothing (a SKU without a
        counter is not short): a cart refuses a sold-out SKU with this, before any database."""
        ...

    async def give_back(self, units: dict[str, int]) -> None:
        """Return units to counters that exist (a failed or released hold)."""
        ...

    async def refill(self, available: dict[str, int | None], *, only_missing: bool) -> None:
        """Set counters from PostgreSQL's truth (``only_missing``: never overwrite a live counter);
        ``None`` removes a SKU from the gate (untracked and backorder SKUs are never gated)."""
        ...
