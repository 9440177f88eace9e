"""How many shoppers a drop's waiting room may have admitted: no more than the units left can serve.

A room that admits at a fixed rate lets everyone in within a minute when thousands wait for a few hundred
units: the admitted crowd then races through the shop for stock that is long held, and the shop, not the
room, does the queueing. So the room admits at its rate only while the admitted shoppers who have not
bought yet are fewer than the units still for sale, times ``overbook`` (some admitted shoppers never buy);
when a hold lapses or is given back, the units are for sale again and the room admits again.

    ceiling = settled + ⌈available × overbook⌉

``settled``: admissions no longer outstanding — used by a checkout (whose payment holds the units), or
admitted longer ago than ``lapse`` and unused (the admission window, two minutes by default, or the
token's life if shorter: a shopper who has not started paying by then is taken to have left — told
"out of stock" at the cart, or gone — and counts no longer, though their admission still serves them);
``available``: the drop's units neither held nor sold,
as PostgreSQL counts them. A drop selling a SKU the stock does not count (untracked, a bundle) has no
ceiling: its room admits at the rate alone.

Each process works the ceiling out at most every ``LOOK_EVERY`` seconds per drop (two short reads), and
the requests that ask meanwhile share the answer (one look in flight at a time). The room compares it
with the admissions it counts atomically, so processes a look apart never admit the same place twice; a
ceiling half a second old lets in at most what half a second of sales freed.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from application.drops.ports import DropUnitOfWork
from application.inventory.ports import InventoryUnitOfWork
from domain.drops.drop import Drop

LOOK_EVERY = 0.5  # seconds a process keeps a drop's ceiling


class CeilingUnitOfWork(DropUnitOfWork, InventoryUnitOfWork, Protocol):
    """The drop's tickets, and its stock."""


async def ceiling_now(tx: CeilingUnitOfWork, drop: Drop, *, overbook: float, lapsed_before: datetime) -> int | None:
    """The most shoppers ``drop``'s room may have admitted in all, read now (``None``: no ceiling)."""
    available = 0
    for sku in drop.terms.skus:
        levels = await tx.stock.levels(sku)
        if not levels:
            return None
        available += sum(max(0, item.available) for item in levels)
    settled = await tx.tickets.settled(drop.id, lapsed_before=lapsed_before)
    return settled + math.ceil(available * overbook)


class AdmissionCeilings:
    def __init__(self, uow: Callable[[], CeilingUnitOfWork], *, overbook: float, lapse: timedelta) -> None:
        if not overbook >= 1:
            raise ValueError(f"overbooking admits at least one shopper a unit, not {overbook}")
        self._uow = uow
        self._overbook = overbook
        self._lapse = lapse
        self._looks: dict[str, tuple[datetime, asyncio.Task[int | None]]] = {}

    async def of(self, drop: Drop, *, now: datetime) -> int | None:
        """``drop``'s ceiling, as looked up at most ``LOOK_EVERY`` seconds before ``now``."""
        look = self._looks.get(drop.id)
        if look is None or abs((now - look[0]).total_seconds()) >= LOOK_EVERY or (
                look[1].done() and look[1].exception() is not None):
            look = (now, asyncio.ensure_future(self._look(drop, now)))
            self._looks[drop.id] = look
        return await asyncio.shield(look[1])

    async def _look(self, drop: Drop, now: datetime) -> int | None:
        async with self._uow() as tx:
            return await ceiling_now(tx, drop, overbook=self._overbook, lapsed_before=now - self._lapse)
