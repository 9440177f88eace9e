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
    def __init__(self, settle: Settle[Request, Answer], *, max_group: int = 128, name: str = "group") -> None:
        self._settle = settle
        self._max_group = max_group
        self._name = name
        self._pending: list[tuple[Request, asyncio.Future[Answer]]] = []
        self._draining: asyncio.Task[None] | None = None
        self.groups = 0  # how many round trips were made (benchmarks and tests read it)

    async def submit(self, request: Request) -> Answer:
        outcome: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._pending.append((request, outcome))
        if self._draining is None or self._draining.done():
            self._draining = asyncio.create_task(self._drain())
        return await outcome

    async def _drain(self) -> None:
        while self._pending:
            group, self._pending = self._pending[: self._max_group], self._pending[self._max_group :]
            requests = [request for request, _ in group]
            settled = await self._try(requests)
            if isinstance(settled, BaseException):
                if len(requests) > 1:
                    # The round trip failed as a whole (a racing duplicate, a lost connection):
                    # isolate the culprit by settling every request on its own.
                    logger.warning("%s of %d failed; retrying one by one", self._name, len(requests))
                outcomes = [await self._one(request) for request in requests] if len(requests) > 1 else [settled]
            else:
                outcomes = settled
            for (_, future), outcome in zip(group, outcomes, strict=True):
                if future.done():
                    continue  # the caller went away
                if isinstance(outcome, BaseException):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)

    async def _try(self, requests: list[Request]) -> list[Answer | BaseException] | BaseException:
        self.groups += 1
        try:
            return await self._settle(requests)
        except Exception as error:  # noqa: BLE001 - every caller of the group is told
            return error

    async def _one(self, request: Request) -> Answer | BaseException:
        settled = await self._try([request])
        return settled if isinstance(settled, BaseException) else settled[0]
