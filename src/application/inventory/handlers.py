"""Inventory handlers. Each contended change is one short transaction that locks stock rows in
(sku, location) order; the Redis gate only ever filters in front of PostgreSQL."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from application.inventory.api import close as close_reservation
from application.inventory.api import refill_gate as _refill_gate
from application.inventory.api import reserve, sell
from application.inventory.batching import Close, ReservationBatcher
from application.inventory.commands import (
    AddLocation,
    AdjustStock,
    CommitReservation,
    ExtendReservation,
    ReceiveStock,
    Reconcile,
    ReleaseReservation,
    ReserveStock,
    ReturnReservation,
    SetSkuPolicy,
    ShipReservation,
    TransferStock,
)
from application.inventory.ports import InventoryUnitOfWork, StockGate
from application.messaging.registry import handler
from application.ports.clock import Clock, IdGenerator
from domain.inventory.audit import ReconciliationRun
from domain.inventory.errors import InventoryError
from domain.inventory.reservation import ReservationStatus, SkuPolicy
from domain.inventory.stock import Location, StockChanged

logger = logging.getLogger(__name__)

Uow = Callable[[], InventoryUnitOfWork]


@handler
async def add_location(cmd: AddLocation, *, uow: Uow) -> str:
    if not cmd.id.strip() or not cmd.name.strip():
        raise InventoryError("a location needs an id and a name")
    async with uow() as tx:
        await tx.stock.add_location(Location(id=cmd.id, name=cmd.name, priority=cmd.priority))
        await tx.commit()
    return cmd.id


@handler
async def set_sku_policy(cmd: SetSkuPolicy, *, uow: Uow, gate: StockGate) -> None:
    if cmd.low_stock_threshold < 0:
        raise InventoryError("the low-stock threshold cannot be negative")
    async with uow() as tx:
        await tx.stock.set_policy(
            SkuPolicy(
                sku=cmd.sku, track_inventory=cmd.track_inventory, allow_backorder=cmd.allow_backorder,
                low_stock_threshold=cmd.low_stock_threshold, show_quantity=cmd.show_quantity,
            )
        )
        # The storefront's row follows at once: a policy change moves no stock, so no event would.
        await tx.availability_view.refresh(cmd.sku)
        await tx.commit()
    await _refill_gate(uow, gate, [cmd.sku])


@handler
async def receive_stock(cmd: ReceiveStock, *, uow: Uow, gate: StockGate, clock: Clock) -> int:
    async with uow() as tx:
        item = await tx.stock.get_or_create(cmd.sku, cmd.location_id)
        item.receive(cmd.quantity, actor=cmd.actor, reference=cmd.reference, now=clock.now())
        await tx.stock.save([item])
        await tx.commit()
    await _refill_gate(uow, gate, [cmd.sku])
    return item.on_hand


@handler
async def adjust_stock(cmd: AdjustStock, *, uow: Uow, gate: StockGate, clock: Clock) -> int:
    async with uow() as tx:
        item = await tx.stock.get_or_create(cmd.sku, cmd.location_id)
        item.adjust(cmd.delta, reason=cmd.reason, actor=cmd.actor, now=clock.now())
        await tx.stock.save([item])
        await tx.commit()
    await _refill_gate(uow, gate, [cmd.sku])
    return item.on_hand


@handler
async def transfer_stock(cmd: TransferStock, *, uow: Uow, gate: StockGate, clock: Clock, ids: IdGenerator) -> str:
    if cmd.from_location == cmd.to_location:
        raise InventoryError("a transfer needs two different locations")
    reference = ids.new_id()
    now = clock.now()
    async with uow() as tx:
        for location in sorted([cmd.from_location, cmd.to_location]):  # lock order
            await tx.stock.get_or_create(cmd.sku, location)
        items = await tx.stock.lock_keys([(cmd.sku, cmd.from_location), (cmd.sku, cmd.to_location)])
        source, target = items[(cmd.sku, cmd.from_location)], items[(cmd.sku, cmd.to_location)]
        source.transfer_out(cmd.quantity, actor=cmd.actor, reference=reference, now=now)
        target.transfer_in(cmd.quantity, actor=cmd.actor, reference=reference, now=now)
        await tx.stock.save([source, target])
        await tx.commit()
    return reference


@handler
async def reserve_stock(
    cmd: ReserveStock, *, gate: StockGate, batcher: ReservationBatcher, uow: Uow, reservation_ttl: int
) -> str:
    return await reserve(cmd.reference, cmd.lines, ttl_seconds=cmd.ttl_seconds, gate=gate, batcher=batcher, uow=uow,
                         reservation_ttl=reservation_ttl)


@handler
async def extend_reservation(cmd: ExtendReservation, *, uow: Uow, clock: Clock) -> None:
    if cmd.seconds <= 0:
        raise InventoryError("extend by a positive number of seconds")
    async with uow() as tx:
        reservation = await tx.reservations.get(cmd.reservation_id)
        now = clock.now()
        reservation.extend(now + timedelta(seconds=cmd.seconds), now=now)
        await tx.reservations.save(reservation)
        await tx.commit()


Key = tuple[str, str]  # (sku, location)


async def _close(
    batcher: ReservationBatcher, uow: Uow, gate: StockGate, reservation_id: str, close: Close,
    already: frozenset[ReservationStatus] = frozenset(),
) -> bool:
    return await close_reservation(reservation_id, close, batcher=batcher, uow=uow, gate=gate, already=already)


@handler
async def commit_reservation(
    cmd: CommitReservation, *, uow: Uow, clock: Clock, gate: StockGate, batcher: ReservationBatcher
) -> bool:
    """Payment succeeded: the held units are sold (``reclaim``: re-taken first if the hold lapsed)."""
    return await sell(cmd.reservation_id, reclaim=cmd.reclaim, batcher=batcher, uow=uow, gate=gate, clock=clock)


@handler
async def ship_reservation(
    cmd: ShipReservation, *, uow: Uow, gate: StockGate, clock: Clock, batcher: ReservationBatcher
) -> bool:
    return await _close(batcher, uow, gate, cmd.reservation_id,
                        lambda r, items: r.ship(items, actor=cmd.actor, now=clock.now()))


@handler
async def return_reservation(
    cmd: ReturnReservation, *, uow: Uow, gate: StockGate, clock: Clock, batcher: ReservationBatcher
) -> bool:
    return await _close(batcher, uow, gate, cmd.reservation_id,
                        lambda r, items: r.give_back(items, actor=cmd.actor, now=clock.now()))


@handler
async def release_reservation(
    cmd: ReleaseReservation, *, uow: Uow, gate: StockGate, clock: Clock, batcher: ReservationBatcher
) -> bool:
    return await _close(batcher, uow, gate, cmd.reservation_id, lambda r, items: r.release(items, now=clock.now()),
                        already=frozenset({ReservationStatus.RELEASED, ReservationStatus.EXPIRED}))


async def expire_due(*, uow: Uow, gate: StockGate, clock: Clock, batch_size: int = 500) -> int:
    """Release every reservation past its expiry; each in its own short transaction."""
    now = clock.now()
    async with uow() as tx:
        due = await tx.reservations.due_for_expiry(now, batch_size)
    expired = 0
    freed: set[str] = set()
    for reservation_id in due:
        async with uow() as tx:
            reservation = await tx.reservations.get(reservation_id)
            items = await tx.stock.lock_keys(reservation.stock_keys())
            if reservation.expire(items, now=now):
                await tx.stock.save(items.values())
                await tx.reservations.save(reservation)
                await tx.commit()
                expired += 1
                freed.update(line.sku for line in reservation.held_lines)
    if freed:
        await _refill_gate(uow, gate, sorted(freed))
    return expired


@handler
async def reconcile(cmd: Reconcile, *, uow: Uow, gate: StockGate, clock: Clock, ids: IdGenerator) -> ReconciliationRun:
    """The minute job: expire due holds, check ledger = balance, resynchronise the gate."""
    expired = await expire_due(uow=uow, gate=gate, clock=clock, batch_size=cmd.batch_size)
    async with uow() as tx:
        drift = await tx.stock.drift()
        run = ReconciliationRun(id=ids.new_id(), ran_at=clock.now(), expired=expired, drift=drift)
        await tx.reservations.add_run(run)
        await tx.commit()
        skus = await tx.stock.tracked_skus()
    if drift:
        logger.error("inventory drift on %d stock items", len(drift))
    if skus:
        await _refill_gate(uow, gate, skus)
    return run


async def project_availability(event: StockChanged, uow: InventoryUnitOfWork) -> None:
    """Consumer: recompute from the current balance, so replays and reordering are harmless."""
    await uow.availability_view.refresh(event.sku)


async def project_availabilities(events: list[StockChanged], uow: InventoryUnitOfWork) -> None:
    """Consumer of a burst of stock changes: each SKU recomputed once (a sale's many changes of one SKU)."""
    for sku in sorted({event.sku for event in events}):
        await uow.availability_view.refresh(sku)
