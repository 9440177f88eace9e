"""In-memory stock, reservations and stock gate: the fakes the inventory contract suites hold to."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from application.inventory.ports import Closing, GateAnswer, Placement, StockKey
from application.inventory.read_models import Availability
from domain.inventory.audit import ReconciliationRun
from domain.inventory.errors import ReservationNotFound, UnknownLocation
from domain.inventory.limits import Cap
from domain.inventory.reservation import Reservation, ReservationStatus, SkuPolicy, availability_status
from domain.inventory.stock import Drift, Location, Movement, StockItem, fold
from domain.shared.errors import Conflict
from domain.shared.events import Aggregate


class Balance(NamedTuple):
    on_hand: int
    reserved: int
    committed: int
    version: int

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved - self.committed


@dataclass
class InventoryData:
    locations: dict[str, Location] = field(default_factory=dict)
    items: dict[StockKey, Balance] = field(default_factory=dict)
    ledger: list[Movement] = field(default_factory=list)
    policies: dict[str, SkuPolicy] = field(default_factory=dict)
    reservations: dict[str, Reservation] = field(default_factory=dict)
    runs: list[ReconciliationRun] = field(default_factory=list)
    holdings: list[tuple[str, Cap, int]] = field(default_factory=list)  # reservation, cap, units


COUNTING = frozenset({ReservationStatus.ACTIVE, ReservationStatus.COMMITTED, ReservationStatus.SHIPPED})


class MemoryBuyerHoldings:
    def __init__(self, data: InventoryData) -> None:
        self._data = data

    async def held(self, pairs: Collection[tuple[str, str]], *, excluding: str | None = None,
                   ) -> dict[tuple[str, str], int]:
        wanted, found = set(pairs), dict[tuple[str, str], int]()
        for reservation_id, cap, units in self._data.holdings:
            pair = (cap.sku, cap.buyer)
            reservation = self._data.reservations.get(reservation_id)
            if (pair in wanted and reservation_id != excluding and reservation is not None
                    and reservation.status in COUNTING):
                found[pair] = found.get(pair, 0) + units
        return found

    async def add(self, reservation_id: str, takes: Collection[tuple[Cap, int]]) -> None:
        self._data.holdings.extend((reservation_id, cap, units) for cap, units in takes)

    async def caps_of(self, reservation_id: str) -> list[tuple[Cap, int]]:
        return [(cap, units) for owner, cap, units in self._data.holdings if owner == reservation_id]


class MemoryStockRepository:
    def __init__(self, data: InventoryData, seen: list[Aggregate]) -> None:
        self._data = data
        self._seen = seen

    def _item(self, key: StockKey) -> StockItem:
        b = self._data.items[key]
        item = StockItem(sku=key[0], location_id=key[1], on_hand=b.on_hand, reserved=b.reserved,
                         committed=b.committed, version=b.version)
        self._seen.append(item)
        return item

    def _priority(self, location_id: str) -> tuple[int, str]:
        location = self._data.locations.get(location_id)
        return (location.priority if location else 1_000_000, location_id)

    async def lock(self, skus: Iterable[str]) -> dict[str, list[StockItem]]:
        wanted = set(skus)
        result: dict[str, list[StockItem]] = {sku: [] for sku in sorted(wanted)}
        for key in sorted(k for k in self._data.items if k[0] in wanted):
            result[key[0]].append(self._item(key))
        for items in result.values():
            items.sort(key=lambda i: self._priority(i.location_id))
        return result

    async def lock_for_placement(self, skus: Iterable[str], references: list[str]) -> Placement:
        wanted = set(skus)
        held = {r.reference for r in self._data.reservations.values()
                if r.reference in references and r.status is ReservationStatus.ACTIVE}
        return Placement(stock=await self.lock(wanted), policies=await self.policies(wanted), held=held)

    async def lock_keys(self, keys: Iterable[StockKey]) -> dict[StockKey, StockItem]:
        return {key: self._item(key) for key in sorted(set(keys)) if key in self._data.items}

    async def lock_for_closing(self, unless: Mapping[str, Collection[ReservationStatus]]) -> Closing:
        reservations = {rid: self._data.reservations[rid] for rid in sorted(unless) if rid in self._data.reservations}
        self._seen.extend(reservations.values())
        keys = {key for r in reservations.values() if r.status not in unless[r.id] for key in r.stock_keys()}
        return Closing(reservations=reservations, stock=await self.lock_keys(keys))

    async def get_or_create(self, sku: str, location_id: str) -> StockItem:
        if location_id not in self._data.locations:
            raise UnknownLocation(location_id)
        self._data.items.setdefault((sku, location_id), Balance(0, 0, 0, 0))
        return self._item((sku, location_id))

    async def save(self, items: Iterable[StockItem]) -> None:
        for item in items:
            movements = item.pull_movements()
            if movements:
                self._data.items[(item.sku, item.location_id)] = Balance(
                    item.on_hand, item.reserved, item.committed, item.version
                )
                self._data.ledger.extend(movements)

    async def levels(self, sku: str) -> list[StockItem]:
        keys = sorted((k for k in self._data.items if k[0] == sku), key=lambda k: self._priority(k[1]))
        return [self._item(k) for k in keys]

    async def available(self, skus: Iterable[str]) -> dict[str, int]:
        totals = dict.fromkeys(skus, 0)
        for (sku, _), balance in self._data.items.items():
            if sku in totals:
                totals[sku] += balance.available
        return totals

    async def movements(self, sku: str, limit: int) -> list[Movement]:
        return [m for m in reversed(self._data.ledger) if m.sku == sku][:limit]

    async def drift(self) -> list[Drift]:
        drifts = []
        holds: dict[tuple[str, str, ReservationStatus], int] = {}
        for reservation in self._data.reservations.values():
            for line in reservation.held_lines:
                key = (line.sku, line.location_id, reservation.status)
                holds[key] = holds.get(key, 0) + line.quantity
        for (sku, location_id), b in sorted(self._data.items.items()):
            ledger = fold([m for m in self._data.ledger if (m.sku, m.location_id) == (sku, location_id)])
            held = (holds.get((sku, location_id, ReservationStatus.ACTIVE), 0),
                    holds.get((sku, location_id, ReservationStatus.COMMITTED), 0))
            if ledger != (b.on_hand, b.reserved, b.committed) or held != (b.reserved, b.committed):
                drifts.append(Drift(sku=sku, location_id=location_id, on_hand=b.on_hand, reserved=b.reserved,
                                    committed=b.committed, ledger_on_hand=ledger[0], ledger_reserved=ledger[1],
                                    ledger_committed=ledger[2], holds_reserved=held[0], holds_committed=held[1]))
        return drifts

    async def policies(self, skus: Iterable[str]) -> dict[str, SkuPolicy]:
        return {sku: self._data.policies[sku] for sku in skus if sku in self._data.policies}

    async def set_policy(self, policy: SkuPolicy) -> None:
        self._data.policies[policy.sku] = policy

    async def add_location(self, location: Location) -> None:
        self._data.locations[location.id] = location

    async def locations(self) -> list[Location]:
        return sorted(self._data.locations.values(), key=lambda loc: (loc.priority, loc.id))

    async def tracked_skus(self) -> list[str]:
        return sorted({sku for sku, _ in self._data.items})


class MemoryReservationRepository:
    def __init__(self, data: InventoryData, seen: list[Aggregate]) -> None:
        self._data = data
        self._seen = seen

    async def add(self, reservation: Reservation) -> None:
        for other in self._data.reservations.values():
            if other.reference == reservation.reference and other.status is ReservationStatus.ACTIVE:
                raise Conflict(f"checkout {reservation.reference} already holds reservation {other.id}")
        self._data.reservations[reservation.id] = reservation
        self._seen.append(reservation)

    async def add_many(self, reservations: list[Reservation]) -> None:
        for reservation in reservations:
            await self.add(reservation)

    async def get(self, reservation_id: str) -> Reservation:
        try:
            reservation = self._data.reservations[reservation_id]
        except KeyError:
            raise ReservationNotFound(reservation_id) from None
        self._seen.append(reservation)
        return reservation

    async def save(self, reservation: Reservation) -> None:
        self._data.reservations[reservation.id] = reservation

    async def due_for_expiry(self, now: datetime, limit: int) -> list[str]:
        due = [r for r in self._data.reservations.values() if r.is_expired(now)]
        return [r.id for r in sorted(due, key=lambda r: r.expires_at)][:limit]

    async def in_flight(self, limit: int) -> list[Reservation]:
        active = [r for r in self._data.reservations.values() if r.status is ReservationStatus.ACTIVE]
        return sorted(active, key=lambda r: r.expires_at)[:limit]

    async def count_in_flight(self) -> int:
        return sum(1 for r in self._data.reservations.values() if r.status is ReservationStatus.ACTIVE)

    async def add_run(self, run: ReconciliationRun) -> None:
        self._data.runs.append(run)
        self._seen.append(run)

    async def last_run(self) -> ReconciliationRun | None:
        return self._data.runs[-1] if self._data.runs else None


class MemoryStockGate:
    """Counters in a dict; a lock stands in for the atomicity of the Redis script."""

    def __init__(self) -> None:
        self.counters: dict[str, int] = {}
        self._lock = asyncio.Lock()

    async def try_take(self, requested: dict[str, int]) -> GateAnswer:
        return (await self.try_take_many([requested]))[0]

    async def try_take_many(self, requests: list[dict[str, int]]) -> list[GateAnswer]:
        async with self._lock:
            return [self._take(requested) for requested in requests]

    def _take(self, requested: dict[str, int]) -> GateAnswer:
        known = {sku: q for sku, q in requested.items() if sku in self.counters}
        short = sorted(sku for sku, q in known.items() if self.counters[sku] < q)
        if short:
            return GateAnswer(sold_out=short)
        for sku, quantity in known.items():
            self.counters[sku] -= quantity
        return GateAnswer(taken=known, unknown=sorted(set(requested) - set(known)))

    async def short(self, requested: dict[str, int]) -> list[str]:
        return sorted(sku for sku, q in requested.items() if sku in self.counters and self.counters[sku] < q)

    async def give_back(self, units: dict[str, int]) -> None:
        async with self._lock:
            for sku, quantity in units.items():
                if sku in self.counters:
                    self.counters[sku] += quantity

    async def refill(self, available: dict[str, int | None], *, only_missing: bool = False) -> None:
        async with self._lock:
            for sku, units in available.items():
                if units is None:
                    self.counters.pop(sku, None)
                elif not (only_missing and sku in self.counters):
                    self.counters[sku] = max(units, 0)


def clone(data: InventoryData) -> InventoryData:
    return copy.deepcopy(data)


class MemoryAvailabilityView:
    def __init__(self, database: Any) -> None:
        self._data: InventoryData = database.inventory
        self._docs: dict[str, Availability] = database.extra.setdefault("availability", {})

    def _compute(self, sku: str) -> Availability:
        available = sum(b.available for (s, _), b in self._data.items.items() if s == sku)
        policy = self._data.policies.get(sku, SkuPolicy(sku=sku))
        return Availability(
            sku=sku, status=availability_status(available, policy),
            quantity=max(available, 0) if policy.show_quantity else None,
        )

    async def refresh(self, sku: str) -> Availability:
        document = self._docs[sku] = self._compute(sku)
        return document

    async def get(self, skus: Iterable[str]) -> dict[str, Availability]:
        return {sku: self._docs[sku] for sku in skus if sku in self._docs}

    async def get_all(self, skus: Iterable[str]) -> dict[str, Availability]:
        return {sku: self._docs[sku] if sku in self._docs else self._compute(sku) for sku in skus}
