"""Optimistic saves, retried: the one helper that runs a whole transaction again when a concurrent save won.

The aggregate bumps its ``version``; the repository remembers the version it loaded and refuses a stale
save with ``ConcurrencyConflict``. What to do then is the use case's business: most reload, re-check
and re-apply, which is ``retry_on_conflict``.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from domain.shared.errors import ConcurrencyConflict

T = TypeVar("T")

ATTEMPTS = 5
JITTER = 0.002  # seconds, times the attempt number: racers spread out instead of colliding again


async def retry_on_conflict(transaction: Callable[[], Awaitable[T]], *, attempts: int = ATTEMPTS) -> T:
    """Run ``transaction`` (a whole unit of work: load, change, save, commit) and run it again from the
    start, after a short random pause, each time a concurrent save made it stale; at most ``attempts``
    runs, then the last ``ConcurrencyConflict`` is raised. Any other error is raised at once."""
    attempt = 1
    while True:
        try:
            return await transaction()
        except ConcurrencyConflict:
            if attempt >= attempts:
                raise
        await asyncio.sleep(random.uniform(0, JITTER * attempt))
        attempt += 1


class Versioned(Protocol):
    id: str
    version: int


def expect_version(aggregate: Versioned, expected: int | None, *, what: str) -> None:
    """The caller's own optimistic check (an ``expected_version`` from the client, or a version read in an
    earlier transaction), made on the aggregate as just loaded, before it changes: ``ConcurrencyConflict``
    unless it is at ``expected`` (``None``: no check). The save then guards the rest of the way."""
    if expected is not None and aggregate.version != expected:
        raise ConcurrencyConflict(f"{what} {aggregate.id} is at version {aggregate.version}, not {expected}")
