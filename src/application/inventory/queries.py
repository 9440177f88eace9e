"""Inventory's published reads: what other contexts (carts price stock with ``stock_statuses``), the
HTTP layer and the metrics ask of inventory. Changes go through the bus to ``handlers``."""

from __future__ import annotations

import time
from collections.abc import Callable

from application.inventory.ports import InventoryUnitOfWork
from application.inventory.read_models import Availability
from domain.inventory.reservation import Reservation, SkuPolicy
from domain.inventory.stock import Movement, StockItem

Uow = Callable[[], InventoryUnitOfWork]


class StockStatuses:
    """``stock_statuses`` as a cart shows them, kept ``ttl`` seconds in this process: in a sale every
    buyer's cart asks about the same SKU, and one read per process and ``ttl`` answers them all. The
    shown status may lag that long; what is sold is decided by the stock hold (gate and PostgreSQL),
    never by it. ``ttl=0``: every call reads."""

    def __init__(self, uow: Uow, *, ttl: float = 0.0, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._uow = uow
        self._ttl = ttl
        self._monotonic = monotonic
        self._kept: dict[str, tuple[Availability, float]] = {}

    async def __call__(self, skus: list[str]) -> dict[str, Availability]:
        now = self._monotonic()
        found = {}
        missing = []
        for sku in skus:
            kept = self._kept.get(sku)
            if kept is not None and kept[1] > now:
                found[sku] = kept[0]
            else:
                missing.append(sku)
        if missing:
            read = await stock_statuses(missing, uow=self._uow)
            if self._ttl > 0:
                if len(self._kept) > 50_000:
                    self._kept.clear()
                until = now + self._ttl
                self._kept.update({sku: (availability, until) for sku, availability in read.items()})
            found.update(read)
        return found


async def availability_of(skus: list[str], *, uow: Uow) -> dict[str, Availability]:
    """The projected availability of ``skus``; a SKU inventory has never heard of is left out."""
    async with uow() as tx:
        return await tx.availability_view.get(skus)


async def stock_statuses(skus: list[str], *, uow: Uow) -> dict[str, Availability]:
    """Every asked SKU's availability as a reservation would decide it: a SKU that never had
    stock is ``sold_out`` when tracked (``backorder`` / ``untracked`` by its policy), not unknown."""
    if not skus:
        return {}
    async with uow() as tx:
        return await tx.availability_view.get_all(skus)


# Queries (admin): read the write side directly; they are not on a hot path.


async def stock_levels(sku: str, *, uow: Uow) -> tuple[list[StockItem], SkuPolicy]:
    async with uow() as tx:
        levels = await tx.stock.levels(sku)
        policy = (await tx.stock.policies([sku])).get(sku, SkuPolicy(sku=sku))
    return levels, policy


async def stock_movements(sku: str, *, uow: Uow, limit: int = 100) -> list[Movement]:
    async with uow() as tx:
        return await tx.stock.movements(sku, limit)


async def reservations_in_flight(*, uow: Uow, limit: int = 100) -> list[Reservation]:
    async with uow() as tx:
        return await tx.reservations.in_flight(limit)


async def inventory_gauges(*, uow: Uow) -> tuple[int, int]:
    """(reservations in flight, stock items drifting at the last reconciliation)."""
    async with uow() as tx:
        in_flight = await tx.reservations.count_in_flight()
        last = await tx.reservations.last_run()
    return in_flight, len(last.drift) if last else 0
