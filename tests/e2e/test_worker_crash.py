"""A worker killed between receiving a message and acking it: the projection still converges.

Kept in its own module so no other relay (with another broker namespace) runs meanwhile.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from application.catalog.commands import CreateProduct
from domain.catalog.product import ProductSaved
from tests.support.delivery import bus_for, document_version, processed_count, queue_drained
from tests.support.harness import PostgresHarness
from tests.support.processes import (
    RELAY_READY,
    WORKER_READY,
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


@pytest.mark.parametrize("stage", ["before", "after"])
async def test_a_worker_killed_before_ack_still_converges(
    database_url, redis_url, engine, tmp_path: Path, unique, stage
) -> None:
    """'before': killed after receiving, before the actor ran. 'after': killed after the actor's
    transaction committed but before the ack, so the message is redelivered and must be a no-op."""
    namespace = f"emporium-crash-{unique}"
    flag = tmp_path / "crash-once"
    flag.touch()
    # The replacement worker takes over what the dead one held once its heartbeat is 1.5 s old. A live
    # worker starved for longer may be taken for dead too: that only redelivers, and delivery is idempotent.
    env = service_env(
        database_url, redis_url, namespace, EMPORIUM_TEST_CRASH_FLAG=str(flag), EMPORIUM_TEST_CRASH_STAGE=stage,
        EMPORIUM_WORKER_HEARTBEAT_TIMEOUT_MS="1500",
    )
    print(f"outbox rows of earlier tests left unpublished: {skip_outbox_backlog(database_url)}")
    relay_log, crash_log, worker_log = tmp_path / "relay.log", tmp_path / "crash-worker.log", tmp_path / "worker.log"
    relay = relay_process(env, relay_log)
    crashing = worker_process(env, crash_log, module="tests.support.crashing_worker")
    with running(relay, crashing):
        await ready(relay, relay_log, RELAY_READY)
        await ready(crashing, crash_log, WORKER_READY)
        product_id = await bus_for(engine).handle(
            CreateProduct(name=f"Crash {stage} {unique}", sku=f"C-{unique}", price_amount=100, currency="EUR")
        )
        await eventually(lambda: not flag.exists(), what="the crashing worker to take a message (and remove the flag)")
        await eventually(lambda: crashing.poll() is not None, what="the crashing worker's main process to exit")
        stop(crashing)
        if stage == "before":
            assert await document_version(engine, product_id) is None

        worker = worker_process(env, worker_log)
        with running(worker):
            await ready(worker, worker_log, WORKER_READY)
            await eventually(lambda: document_version(engine, product_id), what="the product's storefront document")
            await eventually(lambda: queue_drained(redis_url, namespace), what="the events queue to drain")
    [message] = [m for m in await PostgresHarness(engine).outbox_for(product_id) if m.topic == ProductSaved.topic]
    assert await processed_count(engine, message.id) == 1
