"""Drops for merchandisers: schedule a sale, list and read it, edit it before it opens, cancel it.

A SKU sells in one drop at a time: a drop whose SKUs are already in another upcoming or running drop
is refused (the purchase limit and the waiting room that apply to a SKU must never be in doubt). The
SKUs must exist in the catalog. The admission rate left unset is the shop's measured capacity
(``drop_capacity``, buyers a second: what the flash-sale bench sustains on this deployment).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from application.catalog.read_models import DropSummary
from application.catalog.snapshot import CatalogReads
from application.drops.live import LiveDrops
from application.drops.ports import DropUnitOfWork
from application.drops.rooms import WaitingRooms
from application.messaging.registry import Command, handler
from application.ports.clock import Clock, IdGenerator
from domain.drops.drop import Drop, DropTerms
from domain.shared.errors import Conflict, InvalidInput

Uow = Callable[[], DropUnitOfWork]


@dataclass(frozen=True, slots=True, kw_only=True)
class ScheduleDrop(Command[dict[str, Any]]):
    terms: DropTerms


@dataclass(frozen=True, slots=True, kw_only=True)
class EditDrop(Command[dict[str, Any]]):
    drop_id: str
    terms: DropTerms
    expected_version: int | None = None  # the version the merchandiser edited (a stale edit is refused)


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelDrop(Command[dict[str, Any]]):
    drop_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class GetDrop(Command[dict[str, Any]]):
    drop_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ListDrops(Command[list[dict[str, Any]]]):
    pass


def drop_view(drop: Drop, *, now: datetime, capacity: float) -> dict[str, Any]:
    terms = drop.terms
    return {
        "id": drop.id, "name": terms.name, "skus": list(terms.skus), "phase": drop.phase(now).value,
        "opens_at": terms.opens_at.isoformat(), "opens_at_local": drop.opening_local().isoformat(),
        "time_zone": terms.time_zone, "ends_at": terms.ends_at.isoformat() if terms.ends_at else None,
        "per_customer_limit": terms.per_customer_limit, "online_payment_only": terms.online_payment_only,
        "waiting_room": terms.waiting_room, "admission_rate": terms.admission_rate,
        "effective_admission_rate": terms.admission_rate or capacity,
        "cancelled_at": drop.cancelled_at.isoformat() if drop.cancelled_at else None,
        "sold_out_at": drop.sold_out_at.isoformat() if drop.sold_out_at else None,
        "version": drop.version,
    }


async def _check_skus(tx: DropUnitOfWork, terms: DropTerms, *, catalog: CatalogReads, now: datetime,
                      drop_id: str) -> None:
    known = {v.sku for product in (await catalog.lookup(list(terms.skus))).products for v in product.variants}
    missing = sorted(set(terms.skus) - known)
    if missing:
        raise InvalidInput(f"no product sells {', '.join(missing)}")
    for other in await tx.drops.selling(terms.skus, at=now):
        if other.id != drop_id:
            shared = sorted(set(other.terms.skus) & set(terms.skus))
            raise Conflict(f"{', '.join(shared)} already sell(s) in drop {other.id} ({other.terms.name!r})")


@handler
async def schedule_drop(command: ScheduleDrop, *, uow: Uow, clock: Clock, ids: IdGenerator, catalog: CatalogReads,
                        drop_capacity: float) -> dict[str, Any]:
    now = clock.now()
    drop = Drop.schedule(id=ids.new_id(), terms=command.terms, now=now)
    async with uow() as tx:
        await _check_skus(tx, drop.terms, catalog=catalog, now=now, drop_id=drop.id)
        await tx.drops.add(drop)
        await tx.commit()
    return drop_view(drop, now=now, capacity=drop_capacity)


@handler
async def edit_drop(command: EditDrop, *, uow: Uow, clock: Clock, catalog: CatalogReads, rooms: WaitingRooms,
                    drop_capacity: float) -> dict[str, Any]:
    now = clock.now()
    async with uow() as tx:
        drop = await tx.drops.get(command.drop_id)
        if command.expected_version is not None and drop.version != command.expected_version:
            raise Conflict(f"drop {drop.id} changed since version {command.expected_version}: read it again")
        drop.edit(command.terms, now=now)
        await _check_skus(tx, drop.terms, catalog=catalog, now=now, drop_id=drop.id)
        await tx.drops.save(drop)
        await tx.commit()
    await rooms.forget(drop.id)  # its room keeps the terms it was built with: rebuilt with the new ones
    return drop_view(drop, now=now, capacity=drop_capacity)


@handler
async def cancel_drop(command: CancelDrop, *, uow: Uow, clock: Clock, rooms: WaitingRooms,
                      drop_capacity: float) -> dict[str, Any]:
    now = clock.now()
    async with uow() as tx:
        drop = await tx.drops.get(command.drop_id)
        drop.cancel(now=now)
        await tx.drops.save(drop)
        await tx.commit()
    await rooms.forget(drop.id)
    return drop_view(drop, now=now, capacity=drop_capacity)


@handler
async def get_drop(query: GetDrop, *, uow: Uow, clock: Clock, drop_capacity: float) -> dict[str, Any]:
    async with uow() as tx:
        drop = await tx.drops.get(query.drop_id)
    return drop_view(drop, now=clock.now(), capacity=drop_capacity)


@handler
async def list_drops(query: ListDrops, *, uow: Uow, clock: Clock, drop_capacity: float) -> list[dict[str, Any]]:
    async with uow() as tx:
        drops = await tx.drops.all()
    now = clock.now()
    return [drop_view(drop, now=now, capacity=drop_capacity) for drop in drops]


@dataclass(frozen=True, slots=True, kw_only=True)
class Selling:
    drops: list[DropSummary]
    changes_at: datetime | None  # when one of them opens or ends next: what is shown changes then


@dataclass(frozen=True, slots=True, kw_only=True)
class DropsSelling(Command[Selling]):
    """The drops not over that sell any of ``skus`` (a product's), as the storefront shows them."""

    skus: tuple[str, ...]


def drop_summary(drop: Drop, *, now: datetime) -> DropSummary:
    terms = drop.terms
    return DropSummary(
        id=drop.id, name=terms.name, phase=drop.phase(now).value, skus=list(terms.skus),
        opens_at=terms.opens_at.isoformat(), opens_at_local=drop.opening_local().isoformat(),
        time_zone=terms.time_zone, ends_at=terms.ends_at.isoformat() if terms.ends_at else None,
        waiting_room=terms.waiting_room, per_customer_limit=terms.per_customer_limit,
        online_payment_only=terms.online_payment_only,
    )


def next_change(drops: list[Drop], *, now: datetime) -> datetime | None:
    """When the first of these drops changes phase by the clock alone (opens or ends), if any will."""
    moments = [m for drop in drops for m in (drop.terms.opens_at, drop.terms.ends_at) if m is not None and m > now]
    return min(moments, default=None)


@handler
async def drops_selling(query: DropsSelling, *, drops: LiveDrops, clock: Clock) -> Selling:
    now = clock.now()
    found = await drops.selling(query.skus, at=now)
    return Selling(drops=[drop_summary(drop, now=now) for drop in found], changes_at=next_change(found, now=now))
