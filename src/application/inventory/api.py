"""The inventory context's write helpers for other contexts (the checkout holds stock with ``reserve``,
writing its own change in the hold's transaction); the inventory handlers use them too."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import timedelta

from application.inventory.batching import ReservationBatcher, Then
from application.inventory.ports import InventoryUnitOfWork, StockGate
from domain.inventory.errors import InventoryError, OutOfStock

logger = logging.getLogger(__name__)

Uow = Callable[[], InventoryUnitOfWork]


async def reserve(
    reference: str, lines: Sequence[tuple[str, int]], *, ttl_seconds: int | None = None, gate: StockGate,
    batcher: ReservationBatcher, uow: Uow, reservation_ttl: int, then: Then | None = None,
) -> str:
    """Hold the units: the gate first (a sold-out SKU never reaches PostgreSQL), then the batcher's
    next group. ``then``: what the caller writes with the new hold, in the same transaction (the
    checkout that pays with it), so the hold and its owner commit together or not at all."""
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
            reference, requested, timedelta(seconds=ttl_seconds or reservation_ttl), then=then
        )
    except BaseException as error:
        await gate.give_back(answer.taken)
        if isinstance(error, OutOfStock):
            await refill_gate(uow, gate, error.skus)  # the gate was optimistic: correct it
        raise
    if answer.unknown:
        await refill_gate(uow, gate, answer.unknown, only_missing=True)
    return reservation_id


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


