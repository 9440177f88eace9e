"""The outbox as the relay sees it: claim with SKIP LOCKED, wake on LISTEN/NOTIFY."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import datetime

import psycopg
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.postgres import tables as t
from application.ports.outbox import OutboxMessage

CHANNEL = "emporium_outbox"


def libpq_dsn(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


class PostgresOutboxStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._listener: psycopg.AsyncConnection[tuple[object, ...]] | None = None

    @contextlib.asynccontextmanager
    async def claim(self, limit: int) -> AsyncIterator[list[OutboxMessage]]:
        async with self._engine.begin() as conn:
            rows = (
                await conn.execute(
                    select(t.outbox)
                    .where(t.outbox.c.published_at.is_(None))
                    .order_by(t.outbox.c.seq)
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
            ).mappings().all()
            messages = [
                OutboxMessage(
                    id=r["id"], topic=r["topic"], aggregate_id=r["aggregate_id"],
                    aggregate_version=r["aggregate_version"], occurred_at=r["occurred_at"],
                    payload=r["payload"],
                )
                for r in rows
            ]
            yield messages
            if rows:
                await conn.execute(
                    update(t.outbox)
                    .where(t.outbox.c.seq.in_([r["seq"] for r in rows]))
                    .values(published_at=func.now())
                )

    async def wait_for_new(self, timeout: float) -> None:
        try:
            listener = await self._listen()
            async for _ in listener.notifies(timeout=timeout, stop_after=1):
                break
        except (psycopg.Error, OSError):
            # Polling is the fallback: a lost LISTEN connection only costs latency.
            await self._drop_listener()
            await asyncio.sleep(timeout)

    async def _listen(self) -> psycopg.AsyncConnection[tuple[object, ...]]:
        if self._listener is None or self._listener.closed:
            conn = await psycopg.AsyncConnection.connect(
                libpq_dsn(self._engine.url.render_as_string(hide_password=False)), autocommit=True
            )
            await conn.execute(f"LISTEN {CHANNEL}")
            self._listener = conn
        return self._listener

    async def _drop_listener(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(Exception):
                await self._listener.close()
        self._listener = None

    async def backlog(self) -> int:
        async with self._engine.connect() as conn:
            count = await conn.scalar(
                select(func.count()).select_from(t.outbox).where(t.outbox.c.published_at.is_(None))
            )
        return int(count or 0)

    async def lag_seconds(self) -> float:
        """Age of the oldest unpublished message (0 when the outbox is drained)."""
        async with self._engine.connect() as conn:
            oldest = await conn.scalar(
                select(func.extract("epoch", func.now() - func.min(t.outbox.c.recorded_at))).where(
                    t.outbox.c.published_at.is_(None)
                )
            )
        return float(oldest or 0.0)

    async def prune(self, before: datetime) -> int:
        # Consumer marks must outlive any redelivery (Dramatiq retries for hours at most), so
        # both are kept for the same retention window.
        async with self._engine.begin() as conn:
            deleted = await conn.execute(
                delete(t.outbox).where(t.outbox.c.published_at < before).returning(t.outbox.c.seq)
            )
            await conn.execute(delete(t.processed_events).where(t.processed_events.c.processed_at < before))
        return len(deleted.all())

    async def close(self) -> None:
        await self._drop_listener()
