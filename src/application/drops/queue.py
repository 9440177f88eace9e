"""The storefront's side of a drop: the waiting room's queue, and the admission a gated SKU asks for.

A shopper joins once (``JoinQueue``: one ticket per shopper and drop, recorded in PostgreSQL, then put in
the room) and then asks where they stand (``ReadQueue``: the room alone, no database) as often as
``retry_after`` says, until the room admits them — the answer then carries an admission token — or tells
them the drop sold out. A room Redis lost is rebuilt from the recorded tickets on the first question that
finds it gone. Admitted tickets are recorded as they are admitted, so a rebuilt room does not queue them
again.

The room admits at the drop's rate, and no more shoppers than the units left can serve
(``application.drops.ceiling``): when thousands wait for a few hundred units, the rest wait in the room
(asking it now and then, which costs the shop little) instead of racing through the shop for units
already held.

Sold out is noticed by the readers: while a room admits, a reader asks the stock gate (at most every
``SELL_OUT_CHECK`` seconds per process) whether any of the drop's SKUs is left, and when none is, whether
every unit is sold rather than only held (a hold given back, or lapsed, sells again: the room keeps
admitting until then); when all are sold, the room tells everyone waiting at once and the drop records it
(``drops.drop_sold_out.v1``).
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from application.drops.admission import AdmissionTokens, ticket_for
from application.drops.ceiling import AdmissionCeilings
from application.drops.errors import DropNotOpen, NoWaitingRoom
from application.drops.handlers import drop_view
from application.drops.live import LiveDrops
from application.drops.ports import DropUnitOfWork
from application.drops.rooms import RoomFigures, RoomLost, RoomTerms, Seen, TicketRecord, WaitingRooms
from application.inventory.ports import InventoryUnitOfWork, StockGate
from application.messaging.grouping import Grouped
from application.messaging.registry import Command, handler
from application.ports.clock import Clock
from domain.drops.drop import Drop, DropNotFound, DropPhase
from domain.drops.waiting_room import Admission
from domain.shared.errors import DomainError


class QueueUnitOfWork(DropUnitOfWork, InventoryUnitOfWork, Protocol):
    """The drops, and the stock their sell-out is read from."""


Uow = Callable[[], QueueUnitOfWork]
MAX_RETRY_AFTER = 60  # seconds: a shopper far back in the line asks again at most this rarely
HELD_BACK = 20  # seconds, about, between the questions of a shopper the room's ceiling holds back
SELL_OUT_CHECK = 0.5  # seconds between two looks at the stock gate for one drop, per process
BURST_SECONDS = 2  # admissions owed at most: this many seconds' worth at the room's rate


@dataclass(frozen=True, slots=True, kw_only=True)
class JoinQueue(Command[dict[str, Any]]):
    drop_id: str
    holder: str  # the shopper: the cart owner's key
    # When the join first reached the shop, if the door knows (its bytes' arrival, or the arrival cookie of a
    # join refused busy and sent again): the ticket is dated by it, so waiting at the door costs no place.
    # Never later than now.
    arrived_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadQueue(Command[dict[str, Any]]):
    drop_id: str
    holder: str


class TicketDesk:
    """Tickets recorded in groups: the joins that arrive while one group's transaction is in flight go
    together into the next (one INSERT, one read, one COMMIT for them all) — at a drop's opening thousands
    join in the same second, and each its own transaction would queue them on the connection pool."""

    def __init__(self, uow: Uow, *, max_group: int = 256) -> None:
        self._uow = uow
        self._groups: Grouped[tuple[str, str, TicketRecord], TicketRecord] = Grouped(
            self._record, max_group=max_group, name="ticket group",
            isolate=lambda error: isinstance(error, DomainError))

    @property
    def transactions(self) -> int:
        return self._groups.groups

    async def issue(self, drop_id: str, holder: str, ticket: TicketRecord) -> TicketRecord:
        """The holder's ticket for the drop: ``ticket``, recorded now, or the one recorded before."""
        return await self._groups.submit((drop_id, holder, ticket))

    async def _record(self, group: list[tuple[str, str, TicketRecord]]) -> list[TicketRecord | BaseException]:
        async with self._uow() as tx:
            recorded: list[TicketRecord | BaseException] = list(await tx.tickets.issue(group))
            await tx.commit()
        return recorded


class SellOutWatch:
    """When each drop's stock was last looked at by this process."""

    def __init__(self) -> None:
        self._looked: dict[str, datetime] = {}

    def due(self, drop_id: str, now: datetime) -> bool:
        last = self._looked.get(drop_id)
        if last is not None and abs((now - last).total_seconds()) < SELL_OUT_CHECK:
            return False
        self._looked[drop_id] = now
        return True


def room_of(drop: Drop, capacity: float) -> RoomTerms:
    """The room of a drop: admitting at its rate (else the shop's capacity). Admission happens when the
    room is asked (nothing runs on a timer), so the bucket holds up to ``BURST_SECONDS`` of admissions:
    a second without a question loses none, and no pause lets more than that through at once."""
    rate = drop.terms.admission_rate or capacity
    return RoomTerms(drop_id=drop.id, opens_at=drop.terms.opens_at, rate=rate,
                     burst=max(1, math.ceil(rate * BURST_SECONDS)))


async def _live_drop(drops: LiveDrops, drop_id: str, now: datetime) -> Drop:
    drop = await drops.find(drop_id, at=now)
    if drop is None:
        raise DropNotFound(f"no drop {drop_id} is upcoming or open")
    if not drop.terms.waiting_room:
        raise NoWaitingRoom(f"drop {drop_id} has no waiting room: add its SKUs to the cart")
    return drop


async def _in_room(uow: Uow, rooms: WaitingRooms, room: RoomTerms, clock: Clock,
                   ask: Callable[[], Awaitable[Seen]], sold_out: bool) -> Seen:
    try:
        seen = await ask()
    except RoomLost:
        async with uow() as tx:
            tickets, admitted = await tx.tickets.records(room.drop_id)
        await rooms.restore(room, tickets, admitted=admitted, sold_out=sold_out, now=clock.now())
        seen = await ask()
    if seen.admitted_now:
        # The moment the room answered (not the one the request began: under load those are seconds
        # apart, and two processes' admissions would be recorded out of their order).
        at = clock.now()
        async with uow() as tx:
            await tx.tickets.admitted(seen.admitted_now, at=at)
            await tx.commit()
    return seen


async def _sold_out_now(drop: Drop, *, uow: Uow, rooms: WaitingRooms, gate: StockGate, watch: SellOutWatch,
                        drops: LiveDrops, now: datetime) -> bool:
    if drop.phase(now) is not DropPhase.OPEN or not watch.due(drop.id, now):
        return False
    short = await gate.short(dict.fromkeys(drop.terms.skus, 1))
    if sorted(short) != sorted(drop.terms.skus):
        return False
    async with uow() as tx:  # none for sale: sold, or only held? A hold given back sells again.
        unsold = 0
        for sku in drop.terms.skus:
            unsold += sum(item.on_hand - item.committed for item in await tx.stock.levels(sku))
    if unsold > 0:
        return False
    await rooms.sell_out(drop.id)
    async with uow() as tx:
        stored = await tx.drops.get(drop.id)
        stored.sell_out(now=now)
        await tx.drops.save(stored)
        await tx.commit()
    drops.forget()
    return True


def retry_after(ticket_id: str, until: float) -> int:
    """When a waiting shopper should ask again: half the time left (they may be admitted sooner than
    estimated; one the ceiling holds back: about ``HELD_BACK``, longer far back in the line), at least a
    second, at most ``MAX_RETRY_AFTER`` — spread by up to a quarter either way,
    by a fixed amount per ticket, so thousands told the same thing do not all come back in the same second."""
    spread = 0.75 + 0.5 * int(hashlib.sha256(ticket_id.encode()).hexdigest()[:4], 16) / 0xFFFF
    return max(1, min(MAX_RETRY_AFTER, math.ceil(until / 2 * spread)))


def _view(drop: Drop, ticket_id: str, seen: Seen, *, holder: str, admissions: AdmissionTokens,
          now: datetime, room_rate: float) -> dict[str, Any]:
    standing = seen.standing
    view: dict[str, Any] = {
        "drop_id": drop.id, "ticket_id": ticket_id, "status": standing.admission.value,
        "position": standing.position, "wait_seconds": standing.wait_seconds,
        "opens_at": drop.terms.opens_at.isoformat(), "retry_after": None, "admission": None,
        "admission_expires_at": None,
    }
    if standing.admission is Admission.ADMITTED:
        admission = admissions.issue(drop.id, holder, now=now)
        view["admission"] = admissions.sign(admission, holder)
        view["admission_expires_at"] = admission.expires_at.isoformat()
    elif standing.admission is Admission.WAITING:
        if standing.position is None:  # before opening
            until = (drop.terms.opens_at - now).total_seconds()
        elif standing.wait_seconds is None:  # held back by the units left: what frees one, no rate tells
            until = max(2 * HELD_BACK, standing.position / room_rate)
        else:
            until = standing.wait_seconds
        view["retry_after"] = retry_after(ticket_id, until)
    return view


async def _ceiling(ceilings: AdmissionCeilings, drop: Drop, now: datetime) -> int | None:
    """The most shoppers the open drop's room may have admitted (none looked up before it opens)."""
    return await ceilings.of(drop, now=now) if drop.phase(now) is DropPhase.OPEN else None


@handler
async def join_queue(command: JoinQueue, *, uow: Uow, rooms: WaitingRooms, drops: LiveDrops, desk: TicketDesk,
                     admissions: AdmissionTokens, ceilings: AdmissionCeilings, clock: Clock,
                     drop_capacity: float) -> dict[str, Any]:
    """Take a ticket (the shopper's one ticket for the drop: joining again keeps the place)."""
    now = clock.now()
    drop = await _live_drop(drops, command.drop_id, now)
    if drop.phase(now) is DropPhase.SOLD_OUT:
        raise DropNotOpen(f"drop {drop.id} has sold out")
    joined = now if command.arrived_at is None else min(now, command.arrived_at)
    ticket = TicketRecord(ticket_id=ticket_for(drop.id, command.holder), joined_at=joined,
                          draw_key=random.SystemRandom().random())
    recorded = await desk.issue(drop.id, command.holder, ticket)
    room = room_of(drop, drop_capacity)
    ceiling = await _ceiling(ceilings, drop, now)
    seen = await _in_room(uow, rooms, room, clock, lambda: rooms.join(room, recorded, now=now, ceiling=ceiling),
                          sold_out=False)
    return _view(drop, recorded.ticket_id, seen, holder=command.holder, admissions=admissions, now=now,
                 room_rate=room.rate)


@handler
async def read_queue(command: ReadQueue, *, uow: Uow, rooms: WaitingRooms, drops: LiveDrops,
                     admissions: AdmissionTokens, ceilings: AdmissionCeilings, gate: StockGate,
                     sell_out_watch: SellOutWatch, clock: Clock, drop_capacity: float) -> dict[str, Any]:
    """Where the shopper's ticket stands: waiting (position, wait, when to ask again), admitted (with an
    admission token) or sold out."""
    now = clock.now()
    drop = await _live_drop(drops, command.drop_id, now)
    room = room_of(drop, drop_capacity)
    ticket_id = ticket_for(drop.id, command.holder)
    if await _sold_out_now(drop, uow=uow, rooms=rooms, gate=gate, watch=sell_out_watch, drops=drops, now=now):
        drop.sell_out(now=now)
    ceiling = await _ceiling(ceilings, drop, now)
    try:
        seen = await _in_room(uow, rooms, room, clock,
                              lambda: rooms.standing(room, ticket_id, now=now, ceiling=ceiling),
                              sold_out=drop.phase(now) is DropPhase.SOLD_OUT)
    except KeyError:
        raise DropNotFound(f"no ticket for this shopper in drop {drop.id}: join its queue first") from None
    return _view(drop, ticket_id, seen, holder=command.holder, admissions=admissions, now=now, room_rate=room.rate)


@dataclass(frozen=True, slots=True, kw_only=True)
class DropReport(Command[dict[str, Any]]):
    drop_id: str


@handler
async def drop_report(query: DropReport, *, uow: Uow, rooms: WaitingRooms, clock: Clock,
                      drop_capacity: float) -> dict[str, Any]:
    """How a drop's sale goes: its queue now (the room's figures) and the tickets issued, admitted and
    used by a checkout (as recorded)."""
    async with uow() as tx:
        drop = await tx.drops.get(query.drop_id)
        tickets = await tx.tickets.counts(drop.id)
    figures = await rooms.figures(drop.id)
    return {
        "drop": drop_view(drop, now=clock.now(), capacity=drop_capacity),
        "queue": {"joined": figures.joined, "waiting": figures.waiting, "admitted": figures.admitted,
                  "sold_out": figures.sold_out},
        "tickets": {**tickets, "admitted_unused": tickets["admitted"] - tickets["used"]},
    }


async def room_figures(*, uow: Uow, rooms: WaitingRooms, now: datetime) -> list[tuple[str, RoomFigures]]:
    """Each live drop with a waiting room, and how its room stands (for the metrics)."""
    async with uow() as tx:
        live = [drop for drop in await tx.drops.live(at=now) if drop.terms.waiting_room]
    return [(drop.id, await rooms.figures(drop.id)) for drop in live]
