"""``UnconsumedEvents`` in PostgreSQL: the outbox rows of a window of publication (by index) that a
consumer of their topic has not marked in ``processed_events`` (by primary key)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from application.ports.outbox import OutboxMessage
from application.ports.redelivery import EVERY_TOPIC

_UNCONSUMED = text("""
SELECT c.consumer, o.id, o.topic, o.aggregate_id, o.aggregate_version, o.occurred_at, o.payload
FROM outbox o
JOIN unnest(CAST(:topics AS text[]), CAST(:consumers AS text[])) AS c(topic, consumer)
  ON c.topic = o.topic OR c.topic = :every
WHERE o.published_at >= :after AND o.published_at < :before
  AND NOT EXISTS (SELECT 1 FROM processed_events p WHERE p.consumer = c.consumer AND p.event_id = o.id)
ORDER BY o.seq, c.consumer
LIMIT :limit
""")


_TOPICS = text(
    "SELECT DISTINCT topic FROM outbox WHERE published_at >= :after AND published_at < :before"
)


class PostgresUnconsumedEvents:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def published_topics(self, *, published_after: datetime, published_before: datetime) -> set[str]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(_TOPICS, {"after": published_after, "before": published_before})
            return {row.topic for row in rows}

    async def unconsumed(
        self, takes: Sequence[tuple[str, str]], *, published_after: datetime, published_before: datetime,
        limit: int,
    ) -> list[tuple[str, OutboxMessage]]:
        if not takes:
            return []
        async with self._engine.connect() as conn:
            rows = (await conn.execute(_UNCONSUMED, {
                "topics": [topic for topic, _ in takes], "consumers": [consumer for _, consumer in takes],
                "every": EVERY_TOPIC, "after": published_after, "before": published_before, "limit": limit,
            })).all()
        return [
            (row.consumer, OutboxMessage(id=row.id, topic=row.topic, aggregate_id=row.aggregate_id,
                                         aggregate_version=row.aggregate_version, occurred_at=row.occurred_at,
                                         payload=row.payload))
            for row in rows
        ]
