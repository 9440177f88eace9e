"""The inventory context's write helpers for other contexts (the checkout holds stock with ``reserve``,
writing its own change in the hold's transaction); the inventory handlers use them too."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import timedelta

from application.inventory.batching import Close, ReservationBatcher, Then
from application.inventory.ports import InventoryUnitOfWork, StockGate
from application.ports.clock import Clock
from domain.inventory.errors import InventoryError, OutOfStock
from domain.inventory.limits import Cap
from domain.inventory.reservation import Reservation, ReservationStatus
from domain.inventory.stock import StockItem

logger = logging.getLogger(__name__)

Uow = Callable[[], InventoryUnitOfWork]


async def reserve(
    reference: str, lines: Sequence[tuple[str, int]], *, ttl_seconds: int | None = None, gate: StockGate,
    batcher: ReservationBatcher, uow: Uow, reservation_ttl: int, then: Then | None = None,
    caps: tuple[Cap, ...] = (), replaces: str | None = None,
) -> str:
    """Hold the units: the gate first (a sold-out SKU never reaches PostgreSQL), then the batcher's
    next group. ``then``: what the caller writes with the new hold, in the same transaction (the
    checkout that pays with it), so the hold and its owner commit together or not at all. ``caps``:
    what one buyer may hold of these SKUs, counted in that transaction without ``replaces`` (the
    caller's previous hold, which it gives back once this one stands)."""
    requested: dict[str, int] = {}
    for sku, quantity in lines:
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
            raise InventoryError(f"quantity for {sku} must be a positive whole number")
        requested[sku] = requested.get(sku, 0) + quantity
    if not requested:
        raise InventoryError("a reservation needs at least one line")

    answer = await gate.try_take(requested)
    if answer.sold_out:
        raise OutOfStock(answer.sold_out)  # answered by the gate: PostgreSQL never saw this buyer
    try:
        reservation_id = await batcher.reserve(
            reference, requested, timedelta(seconds=ttl_seconds or reservation_ttl), then=then, caps=caps,
            replaces=replaces,
        )
    except BaseException as error:
        await gate.give_back(answer.taken)
        if isinstance(error, OutOfStock):
            await refill_gate(uow, gate, error.skus)  # the gate was optimistic: correct it
        raise
    if answer.unknown:
        await refill_gate(uow, gate, answer.unknown, only_missing=True)
    return reservation_id


async def close(
    reservation_id: str, close: Close, *, batcher: ReservationBatcher, uow: Uow, gate: StockGate,
    already: frozenset[ReservationStatus] = frozenset(), then: Then | None = None,
) -> bool:
    """Close the reservation one way, with its stock rows locked, in the batcher's next closing
    group; when that changed what is available (units back on sale, or a lapsed hold re-taken),
    correct the gate's counters. A commit or a shipment moves units the gate no longer counted.
    ``then``: what the caller writes with the close, in its transaction."""
    closed = await batcher.close(reservation_id, close, already=already, then=then)
    if closed.changed:
        await refill_gate(uow, gate, closed.changed)
    return closed.done


async def sell(
    reservation_id: str, *, reclaim: bool, then: Then | None = None, batcher: ReservationBatcher,
    uow: Uow, gate: StockGate, clock: Clock,
) -> bool:
    """The held units are sold (``reclaim``: re-taken first if the hold lapsed, within the buyer's
    purchase limits as they stand now). True if this call did it; a repeat changes nothing. ``then``:
    what the caller writes with the sale (the order), in its transaction — the units are sold with the
    order or not at all."""

    def commit(reservation: Reservation, items: dict[tuple[str, str], StockItem]) -> bool:
        if reclaim:
            return reservation.reclaim_and_commit(items, now=clock.now())
        return reservation.commit(items, now=clock.now())

    return await close(reservation_id, commit, batcher=batcher, uow=uow, gate=gate, then=then,
                       already=frozenset({ReservationStatus.COMMITTED, ReservationStatus.SHIPPED}))


async def refill_gate(uow: Uow, gate: StockGate, skus: list[str], *, only_missing: bool = False) -> None:
    # After the commit and fallible: a failure leaves a stale counter, which PostgreSQL
    # still overrules and the minute job corrects.
    try:
        async with uow() as tx:
            available: dict[str, int | None] = dict(await tx.stock.available(skus))
            for sku, policy in (await tx.stock.policies(skus)).items():
                if not policy.track_inventory or policy.allow_backorder:
                    available[sku] = None  # never gated: PostgreSQL decides alone
        await gate.refill(available, only_missing=only_missing)
    except Exception:
        logger.warning("stock gate refill failed for %s", skus, exc_info=True)


