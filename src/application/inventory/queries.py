"""Inventory's published reads: what other contexts (carts price stock with ``stock_statuses``), the
HTTP layer and the metrics ask of inventory. Changes go through the bus to ``handlers``."""

from __future__ import annotations

from collections.abc import Callable

from application.inventory.ports import InventoryUnitOfWork
from application.inventory.read_models import Availability
from domain.inventory.reservation import Reservation, SkuPolicy
from domain.inventory.stock import Movement, StockItem

Uow = Callable[[], InventoryUnitOfWork]


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
