"""In-memory waiting rooms: the fake of ``application.drops.rooms.WaitingRooms`` that unit tests use.

It keeps the state the Redis rooms keep, in the same shape, because the port ranks by the records rather
than by the order of calls: a ticket's place in line is its draw key when it joined before opening and
``1 +`` its microseconds after opening otherwise, ties broken by ticket id. That is what lets ``restore``
rebuild a room exactly, and what the domain's ``WaitingRoom`` cannot hold (it ranks by call order, cannot
start with tickets already admitted, and counts its bucket from the opening only). Everything else is the
domain's rules as they are written: the terms are checked by ``WaitingRoom`` itself, admission is
``WaitingRoom.admit_due``'s arithmetic and a standing is ``WaitingRoom.standing``'s, line for line — the
contract suite runs random sequences against ``WaitingRoom`` to hold both adapters to it.
"""

from __future__ import annotations

import math
from bisect import bisect_left, insort
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from application.drops.rooms import RoomFigures, RoomLost, RoomTerms, Seen, TicketRecord
from domain.drops.waiting_room import Admission, Standing, WaitingRoom

_MICROSECOND = timedelta(microseconds=1)

Rank = tuple[float, str]


def _check_terms(room: RoomTerms) -> None:
    """``InvalidInput`` for terms the domain's room refuses (naive opening, rate not positive, burst < 1)."""
    WaitingRoom(drop_id=room.drop_id, opens_at=room.opens_at, rate=room.rate, burst=room.burst)


def _check_ticket(ticket: TicketRecord) -> None:
    if not 0.0 <= ticket.draw_key < 1.0:
        raise ValueError(f"ticket {ticket.ticket_id}: a draw key is in [0, 1), not {ticket.draw_key!r}")


def _check_ceiling(ceiling: int | None) -> None:
    if ceiling is not None and ceiling < 0:
        raise ValueError(f"a ceiling on admissions is a count, not {ceiling}")


def _rank(ticket: TicketRecord, opens_at: datetime) -> Rank:
    """Where a ticket goes in line: the draw for the early crowd, then the order of joining."""
    if ticket.joined_at < opens_at:
        return (ticket.draw_key, ticket.ticket_id)
    return (1 + (ticket.joined_at - opens_at) // _MICROSECOND, ticket.ticket_id)


@dataclass(slots=True, kw_only=True)
class _Room:
    opens_at: datetime
    rate: float
    burst: int
    counted_to: datetime
    opened: bool
    sold_out: bool
    allowance: float = 0.0
    line: list[Rank] = field(default_factory=list)  # the waiting tickets, sorted
    ranks: dict[str, Rank] = field(default_factory=dict)  # each waiting ticket's entry in ``line``
    admitted: set[str] = field(default_factory=set)

    def admit_due(self, now: datetime, ceiling: int | None) -> tuple[str, ...]:
        if now >= self.opens_at:
            self.opened = True
        if not self.opened or self.sold_out:
            return ()
        earned = self.rate * max(0.0, (now - self.counted_to).total_seconds())
        self.allowance = min(float(self.burst), self.allowance + earned)
        self.counted_to = max(now, self.counted_to)
        room_for = int(self.allowance)
        if ceiling is not None:
            room_for = min(room_for, max(0, ceiling - len(self.admitted)))
        due = [ticket_id for _, ticket_id in self.line[:room_for]]
        del self.line[:len(due)]
        for ticket_id in due:
            del self.ranks[ticket_id]
        self.admitted.update(due)
        self.allowance -= len(due)
        return tuple(due)

    def holds(self, ticket_id: str) -> bool:
        return ticket_id in self.ranks or ticket_id in self.admitted

    def join(self, ticket: TicketRecord) -> None:
        if not self.holds(ticket.ticket_id):
            self.ranks[ticket.ticket_id] = entry = _rank(ticket, self.opens_at)
            insort(self.line, entry)

    def standing(self, ticket_id: str, ceiling: int | None) -> Standing:
        if ticket_id in self.admitted:
            return Standing(admission=Admission.ADMITTED)
        if self.sold_out:
            return Standing(admission=Admission.SOLD_OUT)
        if not self.opened:
            return Standing(admission=Admission.WAITING)
        position = bisect_left(self.line, self.ranks[ticket_id]) + 1
        if ceiling is not None and position > ceiling - len(self.admitted):
            return Standing(admission=Admission.WAITING, position=position)
        return Standing(admission=Admission.WAITING, position=position,
                        wait_seconds=math.ceil(max(0.0, position - self.allowance) / self.rate))


class MemoryWaitingRooms:
    def __init__(self) -> None:
        self._rooms: dict[str, _Room] = {}

    def _room(self, drop_id: str) -> _Room:
        try:
            return self._rooms[drop_id]
        except KeyError:
            raise RoomLost(f"no waiting room for drop {drop_id}") from None

    async def join(self, room: RoomTerms, ticket: TicketRecord, *, now: datetime,
                   ceiling: int | None = None) -> Seen:
        _check_ticket(ticket)
        _check_ceiling(ceiling)
        state = self._room(room.drop_id)
        admitted_now = state.admit_due(now, ceiling)
        state.join(ticket)
        return Seen(standing=state.standing(ticket.ticket_id, ceiling), admitted_now=admitted_now)

    async def standing(self, room: RoomTerms, ticket_id: str, *, now: datetime,
                       ceiling: int | None = None) -> Seen:
        _check_ceiling(ceiling)
        state = self._room(room.drop_id)
        if not state.holds(ticket_id):
            raise KeyError(ticket_id)
        admitted_now = state.admit_due(now, ceiling)
        return Seen(standing=state.standing(ticket_id, ceiling), admitted_now=admitted_now)

    async def sell_out(self, drop_id: str) -> None:
        self._room(drop_id).sold_out = True

    async def figures(self, drop_id: str) -> RoomFigures:
        state = self._rooms.get(drop_id)
        if state is None:
            return RoomFigures(joined=0, waiting=0, admitted=0, sold_out=False)
        return RoomFigures(joined=len(state.line) + len(state.admitted),
                           waiting=0 if state.sold_out else len(state.line),
                           admitted=len(state.admitted), sold_out=state.sold_out)

    async def restore(self, room: RoomTerms, tickets: Sequence[TicketRecord], *, admitted: Sequence[str],
                      sold_out: bool, now: datetime) -> None:
        _check_terms(room)
        for ticket in tickets:
            _check_ticket(ticket)
        if room.drop_id in self._rooms:
            return
        state = _Room(opens_at=room.opens_at, rate=room.rate, burst=room.burst,
                      counted_to=max(now, room.opens_at), opened=now >= room.opens_at, sold_out=sold_out,
                      admitted=set(admitted))
        for ticket in tickets:
            state.join(ticket)
        self._rooms[room.drop_id] = state

    async def forget(self, drop_id: str) -> None:
        self._rooms.pop(drop_id, None)
