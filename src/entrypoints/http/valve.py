"""The waiting room's valve: how much of a process the queue's own traffic may take.

At a drop's opening tens of thousands join in the same seconds while the first admitted shoppers check
out, on the same event loops. The queue's work is mostly waiting on I/O (a join waits for its group's
transaction), so a count of requests in flight says little about the CPU it takes; what the admitted
shoppers feel is the loop's lag — how late a callback runs after it is ready. The valve lets the
queue's requests through in the order they came, as many at once as ``in_flight`` while the loop keeps
up (its lag, as the process's sampler last measured it, under ``LAG_TARGET``), one at a time when it does
not: the queue slows down, the checkouts do not. A step of a checkout awaits a dozen round trips, each a
turn of the loop, so the target is a few milliseconds (3 ms did better than 10 ms in the drop bench:
docs/benchmarks.md). Up to ``backlog`` more wait their turn, costing no CPU; beyond that they are refused (the caller
answers 429 with the wait :meth:`Valve.wait_seconds` estimates from how fast the line moves, so a
refused shopper is not back every second to be refused again).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

LAG_TARGET = 0.003  # seconds a ready callback may wait on the loop before the valve stops widening
RATE_WINDOW = 5.0  # seconds over which the valve's pace is measured


def loop_keeps_up(target: float = LAG_TARGET) -> bool:
    """Whether the loop's lag, as the process's sampler last measured it, is under ``target``."""
    from entrypoints.http.metrics import last_loop_lag

    return last_loop_lag() < target


class Valve:
    """At most ``in_flight`` at once (one when ``responsive()`` says the loop lags), ``backlog`` more
    waiting in order; ``admits()`` is false when both are full."""

    def __init__(self, *, in_flight: int, backlog: int, responsive: Callable[[], bool] | None = None,
                 clock: Callable[[], float] | None = None) -> None:
        if in_flight < 1 or backlog < 0:
            raise ValueError("a valve lets at least one through and keeps a backlog of 0 or more")
        self._limit, self._bound = in_flight, in_flight + backlog
        self._responsive = responsive or (lambda: True)
        self._clock = clock
        self._running = 0
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._done: deque[float] = deque()  # when each of the last RATE_WINDOW seconds' requests finished

    @property
    def held(self) -> int:
        """In flight and waiting."""
        return self._running + len(self._waiting)

    @property
    def running(self) -> int:
        return self._running

    def admits(self) -> bool:
        return self.held < self._bound

    def _may_start(self) -> bool:
        return self._running == 0 or (self._running < self._limit and self._responsive())

    async def run(self, work: Awaitable[Any]) -> None:
        if not self._waiting and self._may_start():
            self._running += 1
        else:
            turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiting.append(turn)
            try:
                await turn  # the one who woke it counted it in
            except asyncio.CancelledError:
                if turn.done() and not turn.cancelled():
                    self._finish()
                else:
                    with contextlib.suppress(ValueError):
                        self._waiting.remove(turn)
                if asyncio.iscoroutine(work):
                    work.close()  # never started: nothing to undo
                raise
        try:
            await work
        finally:
            self._finish()

    def _finish(self) -> None:
        self._running -= 1
        now = self._now()
        self._done.append(now)
        while self._done and self._done[0] < now - RATE_WINDOW:
            self._done.popleft()
        while self._waiting and self._may_start():
            turn = self._waiting.popleft()
            if not turn.done():
                self._running += 1
                turn.set_result(None)

    def _now(self) -> float:
        return self._clock() if self._clock else asyncio.get_running_loop().time()

    def wait_seconds(self) -> int:
        """About how long the line now waiting takes to move through, by its pace in the last seconds
        (taken as no slower than ``in_flight`` a second): at least 1, at most 60."""
        now = self._now()
        recent = sum(1 for t in self._done if t >= now - RATE_WINDOW)
        per_second = max(recent / RATE_WINDOW, float(self._limit))  # no less than a full valve a second
        return max(1, min(60, math.ceil(self.held / per_second)))
