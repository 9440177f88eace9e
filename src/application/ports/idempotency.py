"""The store behind ``Idempotency-Key``: the first request with a key runs, repeats replay it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Protocol

# A running claim that nobody renewed for this long belongs to a request whose process died: the next
# request with the key and the same body takes it over. The process running a request renews its
# claims every third of this (``renew``), so a live request keeps its key however long it runs.
LEASE = timedelta(seconds=6)


class Claim(Enum):
    NEW = "new"  # this request runs; finish() or abandon() it
    REPLAY = "replay"  # same key, same request, finished: send the stored response
    MISMATCH = "mismatch"  # same key, different request: refuse (422)
    RUNNING = "running"  # same key, same request, still running elsewhere


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class ClaimResult:
    claim: Claim
    response: StoredResponse | None = None


class IdempotencyStore(Protocol):
    async def claim(self, *, scope: str, key: str, request_hash: str, now: datetime) -> ClaimResult: ...

    async def renew(self, *, claims: Sequence[tuple[str, str]], now: datetime) -> None:
        """Keep these (scope, key) claims running from ``now``: their requests still run. A claim that
        finished, was abandoned or is unknown stays as it is."""
        ...

    async def finish(self, *, scope: str, key: str, response: StoredResponse) -> None: ...

    async def abandon(self, *, scope: str, key: str) -> None:
        """Forget a claim whose request failed on our side (5xx), so the client may retry it."""
        ...

    async def prune(self, *, before: datetime) -> int: ...
