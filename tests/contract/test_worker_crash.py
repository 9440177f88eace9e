"""A worker killed between receiving a message and acking it: the projection still converges.

Kept in its own module so no other relay (with another broker namespace) runs meanwhile.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from application.catalog.commands import CreateProduct
from domain.catalog.product import ProductSaved
from tests.contract.harness import PostgresHarness
from tests.contract.processes import eventually, relay_process, running, service_env, stop, worker_process
from tests.contract.test_outbox_to_read_model import bus_for, document_version, processed_count, queue_drained

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
    env = service_env(
        database_url, redis_url, namespace, EMPORIUM_TEST_CRASH_FLAG=str(flag), EMPORIUM_TEST_CRASH_STAGE=stage
    )
    relay = relay_process(env, tmp_path / "relay.log")
    crashing = worker_process(env, tmp_path / "crash-worker.log", module="tests.contract.crashing_worker")
    with running(relay, crashing):
        product_id = await bus_for(engine).handle(
            CreateProduct(name=f"Crash {stage} {unique}", sku=f"C-{unique}", price_amount=100, currency="EUR")
        )
        await eventually(lambda: not flag.exists(), timeout=30)  # the worker took the message and died
        await eventually(lambda: crashing.poll() is not None, timeout=30)
        stop(crashing)
        if stage == "before":
            assert await document_version(engine, product_id) is None

        worker = worker_process(env, tmp_path / "worker.log")
        with running(worker):
            await eventually(lambda: document_version(engine, product_id), timeout=30)
            await eventually(lambda: queue_drained(redis_url, namespace), timeout=30)
    [message] = [m for m in await PostgresHarness(engine).outbox_for(product_id) if m.topic == ProductSaved.topic]
    assert await processed_count(engine, message.id) == 1


