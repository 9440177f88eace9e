"""Events on their way through the real relay and worker: a bus on PostgreSQL to make them, and what
the worker has done with them so far."""

from __future__ import annotations

import redis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.dramatiq.broker import QUEUE
from adapters.postgres import tables as t
from adapters.postgres.unit_of_work import PostgresUnitOfWork
from adapters.system.clock import SystemClock, UuidIdGenerator
from tests.support.bus import build_bus


def bus_for(engine: AsyncEngine):
    ids = UuidIdGenerator()
    return build_bus(uow=lambda: PostgresUnitOfWork(engine, ids), clock=SystemClock(), ids=ids)


async def document_version(engine: AsyncEngine, product_id: str) -> int | None:
    async with engine.connect() as conn:
        return await conn.scalar(select(t.read_products.c.version).where(t.read_products.c.id == product_id))


async def processed_count(engine: AsyncEngine, event_id: str, consumer: str = "catalog_projection") -> int:
    async with engine.connect() as conn:
        value = await conn.scalar(
            select(func.count())
            .select_from(t.processed_events)
            .where(t.processed_events.c.event_id == event_id, t.processed_events.c.consumer == consumer)
        )
    return int(value or 0)


def queue_drained(redis_url: str, namespace: str) -> bool:
    client = redis.Redis.from_url(redis_url)
    try:
        return client.hlen(f"{namespace}:{QUEUE}.msgs") == 0
    finally:
        client.close()


async def deliver_outbox(harness, registry, aggregate_ids: list[str], seen: set[str], rounds: int = 3) -> None:
    """Run every consumer of ``registry`` on the outbox messages of these aggregates not ``seen`` yet, in
    order, a few rounds (consumers record events of their own: a document changed, for the CDN and search)."""
    from application.messaging.consumers import deliver

    for _ in range(rounds):
        for aggregate_id in aggregate_ids:
            for message in await harness.outbox_for(aggregate_id):
                if message.id in seen:
                    continue
                seen.add(message.id)
                for name in registry.consumers_of(message.topic):
                    await deliver(registry, name, message, harness.uow())
