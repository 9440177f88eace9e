"""The waiting rooms' port: where a drop's queue lives while it runs (Redis in the shop, memory in tests).

The rules are ``domain.drops.waiting_room``'s; this port keeps their state where every API process
shares it. Tickets are issued by the application, which records each one in PostgreSQL before it
joins a room (``TicketRecord``): the room is a fast copy that ``restore`` rebuilds when it was lost
(a Redis restart), so nobody's place depends on Redis keeping its memory.

The random draw: a ticket carries a ``draw_key`` (a uniform random number in [0, 1), drawn when the
ticket is issued and recorded with it). At opening, the tickets that joined before are ranked by
their keys — a uniformly random order no script can influence by arriving first — and those who join
later queue behind them in the order they joined. Deciding the draw at issue rather than at opening
lets a room open without a step of its own (nothing has to run at the opening moment) and lets a
restored room rank everyone exactly as before.

Admission is lazy: every call that reads a room (``join``, ``standing``) first admits the tickets
due by ``now`` at the room's rate, from a bucket of at most ``burst`` admissions — the same arithmetic
as ``WaitingRoom.admit_due``. No scheduler loop runs for it; a room nobody asks about admits nobody,
and catches up (up to ``burst``) on the next call. A call may name a ``ceiling``: the most tickets the
room may have admitted in all once it has admitted (``WaitingRoom.admit_due``'s); the application works it
out from the units left (``application.drops.ceiling``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domain.drops.waiting_room import Standing


@dataclass(frozen=True, slots=True, kw_only=True)
class RoomTerms:
    """What a room needs of its drop."""

    drop_id: str
    opens_at: datetime  # timezone-aware
    rate: float  # admissions a second, > 0
    burst: int = 1  # at most this many admissions owed at once, >= 1


@dataclass(frozen=True, slots=True, kw_only=True)
class TicketRecord:
    """A ticket as PostgreSQL records it when it is issued."""

    ticket_id: str
    joined_at: datetime  # timezone-aware; before ``opens_at``: ranked by ``draw_key`` at opening
    draw_key: float  # in [0, 1)


@dataclass(frozen=True, slots=True, kw_only=True)
class Seen:
    """A read of the room: the ticket's standing, and the tickets this read admitted (the caller
    records them, so a restored room does not queue them again)."""

    standing: Standing
    admitted_now: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class RoomFigures:
    joined: int  # tickets in the room, whatever became of them
    waiting: int  # not admitted yet (0 once sold out)
    admitted: int
    sold_out: bool


class RoomLost(Exception):
    """The room's state is gone (Redis restarted empty, or the room was never set up): ``restore`` it
    from the records, then ask again."""


class WaitingRooms(Protocol):
    async def join(self, room: RoomTerms, ticket: TicketRecord, *, now: datetime,
                   ceiling: int | None = None) -> Seen:
        """Admit what is due by ``now`` (up to ``ceiling`` admitted in all), put ``ticket`` in the room
        (joining again keeps its place) and read its standing. ``RoomLost`` when the room does not exist:
        only ``restore`` creates one (for a new drop, from no records), so a room Redis forgot is never
        silently started afresh. ``ValueError`` for a ceiling below 0."""
        ...

    async def standing(self, room: RoomTerms, ticket_id: str, *, now: datetime,
                       ceiling: int | None = None) -> Seen:
        """Admit what is due by ``now`` (up to ``ceiling`` admitted in all), then where ``ticket_id``
        stands. ``RoomLost`` when the room does not exist; ``KeyError`` for a ticket the room does not
        hold; ``ValueError`` for a ceiling below 0."""
        ...

    async def sell_out(self, drop_id: str) -> None:
        """The drop sold out: every waiting ticket, and every later one, is told so at once."""
        ...

    async def figures(self, drop_id: str) -> RoomFigures:
        """How the room stands (all zeros for a room that does not exist)."""
        ...

    async def restore(self, room: RoomTerms, tickets: Sequence[TicketRecord], *, admitted: Sequence[str],
                      sold_out: bool, now: datetime) -> None:
        """Create the room from the records (a new drop: no tickets yet; a lost room: every ticket
        issued), ``admitted`` already admitted, the rest ranked as ``join`` ranks them. Atomic, and a
        room that exists is left as it is: two processes may both find it lost; the first restore wins.
        The admission bucket of a restored room starts empty, counting from ``max(now, opens_at)``."""
        ...

    async def forget(self, drop_id: str) -> None:
        """Drop the room's state (the drop ended or was cancelled)."""
        ...
