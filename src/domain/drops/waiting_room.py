"""A drop's waiting room: who waits, in which order, and who may buy now (issue 22).

Shoppers who join before the drop opens wait unranked: at opening they are put in a random order (the
fastest script gains nothing by arriving first), and whoever joins after is queued behind them, first
come, first served. Admission runs at the drop's rate (shoppers a second) from a bucket holding at most
``burst`` admissions, so a pause in arrivals never lets a crowd through at once, and never beyond a
``ceiling`` on the shoppers admitted in all, when the caller gives one: a room admits no more shoppers
than there are units left for them to buy (the application works the ceiling out from the stock). When the drop sells
out, everyone still waiting, and everyone who joins later, is told so at once; who was admitted stays
admitted (the stock hold at payment decides what is sold, never the room).

Time and the random draw come in as arguments: ``open(draw=…)`` takes a function that returns the early
tickets in the order chosen for them (``random.SystemRandom().sample`` in the shop, a fixed order in
tests). The model is the rule book of the storefront's queue: the in-memory queue runs it as it is, the
Redis queue keeps the same state in sorted sets and is tested against it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from domain.shared.errors import InvalidInput

Draw = Callable[[Sequence[str]], Sequence[str]]


class Admission(Enum):
    WAITING = "waiting"
    ADMITTED = "admitted"
    SOLD_OUT = "sold_out"


@dataclass(frozen=True, slots=True, kw_only=True)
class Standing:
    """Where a ticket stands: ``position`` 1 is next in line (``None`` before opening, when nobody is ranked
    yet, and once it is no longer waiting); ``wait_seconds`` a whole-second estimate of the wait left —
    ``None`` for a ranked ticket the ceiling holds back (its wait depends on units coming back, or on
    admitted shoppers leaving, which no rate tells)."""

    admission: Admission
    position: int | None = None
    wait_seconds: int | None = None


class WaitingRoom:
    def __init__(self, *, drop_id: str, opens_at: datetime, rate: float, burst: int = 1) -> None:
        if opens_at.utcoffset() is None:
            raise InvalidInput("a drop opens at a timezone-aware moment")
        if not rate > 0:
            raise InvalidInput("the admission rate is a positive number of shoppers a second")
        if burst < 1:
            raise InvalidInput("the admission burst is at least 1")
        self.drop_id = drop_id
        self.opens_at = opens_at
        self.rate = rate
        self.burst = burst
        self._early: list[str] = []  # joined before opening, in no order that counts
        self._line: list[str] = []  # ranked: the drawn early tickets, then later ones as they joined
        self._place: dict[str, int] = {}  # where each ranked ticket stands in the line
        self._next = 0  # the first ticket of the line not yet admitted
        self._joined: set[str] = set()
        self._opened = False
        self._sold_out = False
        self._allowance = 0.0  # admissions owed, at most ``burst``
        self._counted_to = opens_at  # the moment the allowance was last brought up to date

    @property
    def opened(self) -> bool:
        return self._opened

    @property
    def sold_out(self) -> bool:
        return self._sold_out

    @property
    def waiting(self) -> int:
        """How many tickets wait (the early ones included before opening)."""
        return 0 if self._sold_out else len(self._early) + len(self._line) - self._next

    def join(self, ticket_id: str, *, ceiling: int | None = None) -> Standing:
        """Put a ticket in the room; joining again keeps its place."""
        if ticket_id not in self._joined:
            self._joined.add(ticket_id)
            if self._opened:
                self._place[ticket_id] = len(self._line)
                self._line.append(ticket_id)
            else:
                self._early.append(ticket_id)
        return self.standing(ticket_id, ceiling=ceiling)

    def open(self, *, now: datetime, draw: Draw) -> None:
        """Rank the tickets that joined before opening in the order ``draw`` gives them."""
        if now < self.opens_at:
            raise InvalidInput("the drop has not opened yet")
        if self._opened:
            return
        drawn = list(draw(list(self._early)))
        if sorted(drawn) != sorted(self._early):
            raise ValueError("a draw returns the tickets it was given, each once")
        self._line = drawn
        self._place = {ticket_id: place for place, ticket_id in enumerate(drawn)}
        self._early = []
        self._opened = True

    @property
    def admitted(self) -> int:
        """How many tickets were admitted, in all."""
        return self._next

    def admit_due(self, *, now: datetime, ceiling: int | None = None) -> list[str]:
        """Admit as many waiting tickets as the rate allows up to ``now``, in line order, and no more
        than bring the tickets admitted in all to ``ceiling`` (none when it is reached or passed: the
        allowance the rate earns meanwhile is kept, up to the burst, for when the ceiling rises)."""
        if not self._opened or self._sold_out:
            return []
        earned = self.rate * max(0.0, (now - self._counted_to).total_seconds())  # a clock read late counts 0
        self._allowance = min(float(self.burst), self._allowance + earned)
        self._counted_to = max(now, self._counted_to)
        due = int(self._allowance)
        if ceiling is not None:
            due = min(due, max(0, ceiling - self._next))
        admitted = self._line[self._next:self._next + due]
        self._next += len(admitted)
        self._allowance -= len(admitted)
        return admitted

    def sell_out(self) -> None:
        """The drop sold out: every ticket still waiting, and every later one, is told so."""
        self._sold_out = True

    def standing(self, ticket_id: str, *, ceiling: int | None = None) -> Standing:
        """Where the ticket stands; ``ceiling``: the one admission runs under, to tell a ticket it holds back."""
        if ticket_id not in self._joined:
            raise InvalidInput(f"no ticket {ticket_id} in this room")
        place = self._place.get(ticket_id)
        if place is not None and place < self._next:
            return Standing(admission=Admission.ADMITTED)
        if self._sold_out:
            return Standing(admission=Admission.SOLD_OUT)
        if place is None:  # joined before opening: not ranked yet
            return Standing(admission=Admission.WAITING)
        position = place - self._next + 1
        if ceiling is not None and position > ceiling - self._next:
            return Standing(admission=Admission.WAITING, position=position)
        return Standing(admission=Admission.WAITING, position=position,
                        wait_seconds=math.ceil(max(0.0, position - self._allowance) / self.rate))
