"""The unit-of-work adapters under test: the in-memory fake and PostgreSQL, with a look at their outbox."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.memory.clock import SequentialIds
from adapters.memory.outbox import MemoryOutboxStore
from adapters.memory.store import MemoryDatabase, MemoryUnitOfWork
from adapters.postgres import tables as t
from adapters.postgres.outbox import PostgresOutboxStore
from adapters.postgres.unit_of_work import PostgresUnitOfWork
from application.ports.outbox import OutboxMessage


class MemoryHarness:
    name = "memory"

    def __init__(self) -> None:
        self.db = MemoryDatabase()
        self.ids = SequentialIds()
        self.outbox_store = MemoryOutboxStore(self.db)

    def uow(self) -> Callable[[], Any]:
        return lambda: MemoryUnitOfWork(self.db, self.ids)

    async def outbox_for(self, aggregate_id: str) -> list[OutboxMessage]:
        return [m for m in self.db.outbox if m.aggregate_id == aggregate_id]

    async def published(self, message_id: str) -> bool:
        return message_id in self.db.published


class PostgresHarness:
    name = "postgres"

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.ids = SequentialIds()
        self.outbox_store = PostgresOutboxStore(engine)

    def uow(self) -> Callable[[], Any]:
        return lambda: PostgresUnitOfWork(self.engine, self.ids)

    async def outbox_for(self, aggregate_id: str) -> list[OutboxMessage]:
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(t.outbox).where(t.outbox.c.aggregate_id == aggregate_id).order_by(t.outbox.c.seq)
                )
            ).mappings()
            return [
                OutboxMessage(
                    id=r["id"], topic=r["topic"], aggregate_id=r["aggregate_id"],
                    aggregate_version=r["aggregate_version"], occurred_at=r["occurred_at"],
                    payload=r["payload"],
                )
                for r in rows
            ]

    async def published(self, message_id: str) -> bool:
        async with self.engine.connect() as conn:
            value = await conn.scalar(select(t.outbox.c.published_at).where(t.outbox.c.id == message_id))
        return value is not None
