"""A broker that loses what it queued (Redis restarted without persistence): the relay publishes again
what no consumer processed, and the read model still catches up. Real relay and worker processes."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import redis
from sqlalchemy import select

from adapters.postgres import tables as t
from application.catalog.commands import CreateProduct
from domain.catalog.product import ProductSaved
from tests.support.delivery import bus_for, document_version, processed_count
from tests.support.harness import PostgresHarness
from tests.support.processes import (
    RELAY_READY,
    WORKER_READY,
    log_tail,
    ready,
    relay_process,
    running,
    service_env,
    skip_outbox_backlog,
    stop,
    worker_process,
)
from tests.support.waiting import eventually

pytestmark = pytest.mark.slow


async def test_messages_the_broker_lost_are_published_again_and_the_read_model_catches_up(
    database_url, redis_url, engine, tmp_path: Path, unique
) -> None:
    namespace = f"emporium-lost-{unique}"
    env = service_env(database_url, redis_url, namespace, EMPORIUM_RELAY_SWEEP_SECONDS="0.5",
                      EMPORIUM_RELAY_SWEEP_GRACE_SECONDS="2")
    print(f"outbox rows of earlier tests left unpublished: {skip_outbox_backlog(database_url)}")
    relay = relay_process(env, tmp_path / "relay.log")
    with running(relay):
        await ready(relay, tmp_path / "relay.log", RELAY_READY)
        product_id = await bus_for(engine).handle(
            CreateProduct(name=f"Lost {unique}", sku=f"LOST-{unique}", price_amount=100, currency="EUR"))
        [message] = [m for m in await PostgresHarness(engine).outbox_for(product_id) if m.topic == ProductSaved.topic]

        async def published() -> bool:
            async with engine.connect() as conn:
                return await conn.scalar(select(t.outbox.c.published_at).where(t.outbox.c.id == message.id)) is not None

        await eventually(published, what="the relay to hand the event to the broker")
        stop(relay)  # a relay started afresh below: it has published nothing again yet

    client = redis.Redis.from_url(redis_url)
    try:
        lost = list(client.scan_iter(match=f"{namespace}:*"))
        assert lost, "the broker held the message"
        client.delete(*lost)  # what a Redis restart without persistence does to the queues
    finally:
        client.close()

    relay, worker = relay_process(env, tmp_path / "relay-again.log"), worker_process(env, tmp_path / "worker.log")
    with running(relay, worker):
        await ready(worker, tmp_path / "worker.log", WORKER_READY)
        began = time.monotonic()
        await eventually(lambda: document_version(engine, product_id), what="the product's storefront document")
        print(f"the lost event reached the read model {time.monotonic() - began:.1f} s after the worker was ready")
        assert "again that no consumer had processed" in log_tail(tmp_path / "relay-again.log", 1 << 20)
    assert await processed_count(engine, message.id) == 1
