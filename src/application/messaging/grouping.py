"""Group commit: callers that arrive while a round trip is in flight go together into the next.

On a hot path the cost is the round trip, not the work inside it: a Redis script or a
PostgreSQL transaction that serves forty buyers costs little more than one serving a single
buyer. ``Grouped`` queues concurrent requests and settles them ``max_group`` at a time, one
group after another; each caller still gets its own answer (or its own error). A lone caller
waits for nothing: its group starts at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

logger = logging.getLogger(__name__)

Request = TypeVar("Request")
Answer = TypeVar("Answer")

# Settles a group: one outcome per request, in order — an answer, or the error for that request.
Settle = Callable[[list[Request]], Awaitable[list[Answer | BaseException]]]


class Grouped(Generic[Request, Answer]):
    """``isolate`` says whether a failure of the whole round trip may be one request's fault (a
    duplicate): then each request is retried alone to find it. Anything else (a lost connection, a
    timeout) is every caller's answer at once — retrying a hundred callers one by one against a
    database that is down would only make each wait longer."""

    def __init__(
        self, settle: Settle[Request, Answer], *, max_group: int = 128, name: str = "group",
        isolate: Callable[[Exception], bool] = lambda error: False,
    ) -> None:
        self._settle = settle
        self._max_group = max_group
        self._name = name
        self._isolate = isolate
        self._pending: list[tuple[Request, asyncio.Future[Answer]]] = []
        self._draining: asyncio.Task[None] | None = None
        self.groups = 0  # how many round trips were made (benchmarks and tests read it)

    async def submit(self, request: Request) -> Answer:
        loop = asyncio.get_running_loop()
        outcome: asyncio.Future[Answer] = loop.create_future()
        self._pending.append((request, outcome))
        if self._draining is None or self._draining.done() or self._draining.get_loop() is not loop:
            # (a drain of another event loop: one that ended with it, as a test's loop does)
            self._draining = asyncio.create_task(self._drain())
        return await outcome

    async def _drain(self) -> None:
        while self._pending:
            group, self._pending = self._pending[: self._max_group], self._pending[self._max_group :]
            try:
                outcomes = await self._outcomes([request for request, _ in group])
            except BaseException as error:  # cancelled mid-group: nobody may wait forever
                group, self._pending = group + self._pending, []
                outcomes = [error] * len(group)
                raise
            finally:
                for (_, future), outcome in zip(group, outcomes, strict=True):
                    if future.done():
                        continue  # the caller went away
                    if isinstance(outcome, asyncio.CancelledError):
                        future.cancel()
                    elif isinstance(outcome, BaseException):
                        future.set_exception(outcome)
                    else:
                        future.set_result(outcome)

    async def _outcomes(self, requests: list[Request]) -> list[Answer | BaseException]:
        settled = await self._try(requests)
        if not isinstance(settled, Exception):
            return settled
        if len(requests) == 1 or not self._isolate(settled):
            return [settled] * len(requests)
        logger.warning("%s of %d failed (%s); retrying one by one", self._name, len(requests), settled)
        return [await self._one(request) for request in requests]

    async def _try(self, requests: list[Request]) -> list[Answer | BaseException] | Exception:
        self.groups += 1
        try:
            return await self._settle(requests)
        except Exception as error:  # noqa: BLE001 - every caller of the group is told
            return error

    async def _one(self, request: Request) -> Answer | BaseException:
        settled = await self._try([request])
        return settled if isinstance(settled, Exception) else settled[0]
