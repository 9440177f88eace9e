"""The in-memory ``UnconsumedEvents``, beside the PostgreSQL one in the port's contract suite."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from adapters.memory.database import MemoryDatabase
from application.ports.outbox import OutboxMessage
from application.ports.redelivery import EVERY_TOPIC


class MemoryUnconsumedEvents:
    def __init__(self, database: MemoryDatabase) -> None:
        self._db = database

    async def published_topics(self, *, published_after: datetime, published_before: datetime) -> set[str]:
        return {m.topic for m in self._db.outbox
                if (at := self._db.published.get(m.id)) is not None and published_after <= at < published_before}

    async def unconsumed(
        self, takes: Sequence[tuple[str, str]], *, published_after: datetime, published_before: datetime,
        limit: int,
    ) -> list[tuple[str, OutboxMessage]]:
        found: list[tuple[str, OutboxMessage]] = []
        for message in self._db.outbox:  # in the order they were recorded
            published = self._db.published.get(message.id)
            if published is None or not published_after <= published < published_before:
                continue
            for topic, consumer in takes:
                if topic in (message.topic, EVERY_TOPIC) and (consumer, message.id) not in self._db.processed:
                    found.append((consumer, message))
        return found[:limit]
