"""In-memory outbox store and publisher, for relay unit tests and contract suites."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from adapters.memory.database import MemoryDatabase
from application.ports.outbox import OutboxMessage


class MemoryOutboxStore:
    def __init__(self, database: MemoryDatabase) -> None:
        self._db = database
        self._claimed: set[str] = set()
        self._new = asyncio.Event()

    def notify(self) -> None:
        self._new.set()

    @asynccontextmanager
    async def claim(self, limit: int) -> AsyncIterator[list[OutboxMessage]]:
        batch = [
            m for m in self._db.outbox
            if m.id not in self._db.published and m.id not in self._claimed
        ][:limit]
        self._claimed.update(m.id for m in batch)
        try:
            yield batch
            moment = datetime.now(UTC)
            self._db.published.update((m.id, moment) for m in batch)
        finally:
            self._claimed.difference_update(m.id for m in batch)

    async def wait_for_new(self, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._new.wait(), timeout)
        self._new.clear()

    async def backlog(self) -> int:
        return sum(1 for m in self._db.outbox if m.id not in self._db.published)


    async def lag_seconds(self) -> float:
        return 0.0

    async def prune(self, before: datetime) -> int:
        old = {message_id for message_id, at in self._db.published.items() if at < before}
        self._db.outbox = [m for m in self._db.outbox if m.id not in old]
        for message_id in old:
            del self._db.published[message_id]
        return len(old)


class MemoryPublisher:
    """Records what would have gone to the broker: each broker message (``bursts``) and the events in them."""

    def __init__(self) -> None:
        self.bursts: list[tuple[str, list[OutboxMessage]]] = []
        self.sent: list[tuple[str, OutboxMessage]] = []

    async def publish(self, consumer: str, messages: list[OutboxMessage]) -> None:
        self.bursts.append((consumer, list(messages)))
        self.sent.extend((consumer, message) for message in messages)
