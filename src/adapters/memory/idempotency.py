"""An in-memory IdempotencyStore, the fake beside ``PostgresIdempotencyStore`` in the port's contract
suite (``tests/contract/test_idempotency_store.py``). Same rules as PostgreSQL's: the first claim of
(scope, key) runs, the same request repeated waits or replays, another request with the key is a
mismatch, and a claim nobody renewed for the lease (its process died) is taken over once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from application.ports.idempotency import LEASE, Claim, ClaimResult, StoredResponse


@dataclass
class _Entry:
    request_hash: str
    created_at: datetime
    response: StoredResponse | None = None


class MemoryIdempotencyStore:
    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], _Entry] = {}

    async def claim(self, *, scope: str, key: str, request_hash: str, now: datetime) -> ClaimResult:
        entry = self._entries.get((scope, key))
        if entry is None:
            self._entries[(scope, key)] = _Entry(request_hash, now)
            return ClaimResult(claim=Claim.NEW)
        if entry.request_hash != request_hash:
            return ClaimResult(claim=Claim.MISMATCH)
        if entry.response is None:
            if entry.created_at < now - LEASE:  # abandoned: this request takes it over
                entry.created_at = now
                return ClaimResult(claim=Claim.NEW)
            return ClaimResult(claim=Claim.RUNNING)
        return ClaimResult(claim=Claim.REPLAY, response=entry.response)

    async def renew(self, *, claims: Sequence[tuple[str, str]], now: datetime) -> None:
        for claim in claims:
            entry = self._entries.get(claim)
            if entry is not None and entry.response is None:
                entry.created_at = now

    async def finish(self, *, scope: str, key: str, response: StoredResponse) -> None:
        entry = self._entries.get((scope, key))
        if entry is not None:
            entry.response = response

    async def abandon(self, *, scope: str, key: str) -> None:
        entry = self._entries.get((scope, key))
        if entry is not None and entry.response is None:
            del self._entries[(scope, key)]

    async def prune(self, *, before: datetime) -> int:
        old = [k for k, entry in self._entries.items() if entry.created_at < before]
        for k in old:
            del self._entries[k]
        return len(old)
