"""Change -> searchable through the real relay and worker: within 2 s (the issue's promise).

Every change must become searchable; how long each took is printed. The 2 s promise itself is a
latency, which a busy machine stretches without anything being wrong: it fails the test only with
EMPORIUM_STRICT_LATENCY=1 (a quiet machine, as for ``emporium bench search``, which measures it too);
otherwise a late change is reported as a warning.

Kept in its own module so no other relay runs meanwhile (relays share the outbox).
"""

from __future__ import annotations

import os
import time
import warnings
from pathlib import Path

import pytest

from adapters.postgres.search import PostgresSearchIndex
from adapters.postgres.unit_of_work import PostgresUnitOfWork
from adapters.system.clock import UuidIdGenerator
from application.catalog import commands as c
from application.inventory import commands as inv
from application.search.ports import IndexQuery
from tests.support.categories import add_categories
from tests.support.delivery import bus_for
from tests.support.processes import (
    RELAY_READY,
    WORKER_READY,
    ready,
    relay_process,
    running,
    service_env,
    skip_outbox_backlog,
    worker_process,
)
from tests.support.waiting import eventually

pytestmark = pytest.mark.slow
PROMISE = 2.0
STRICT = os.environ.get("EMPORIUM_STRICT_LATENCY") == "1"


async def seconds_until(check, index: PostgresSearchIndex, query: IndexQuery, what: str) -> float:
    started = time.monotonic()

    async def fresh() -> bool:
        hits = (await index.search(query)).hits
        return bool(hits and check(hits[0]))

    await eventually(fresh, interval=0.02, what=what)
    return time.monotonic() - started


async def _found(index: PostgresSearchIndex, query: IndexQuery) -> bool:
    return (await index.search(query)).total > 0


async def test_price_and_stock_changes_are_searchable_within_two_seconds(
    database_url, redis_url, engine, tmp_path: Path, unique
) -> None:
    env = service_env(database_url, redis_url, f"emporium-fresh-{unique}")
    index = PostgresSearchIndex(engine)
    bus = bus_for(engine)
    print(f"outbox rows of earlier tests left unpublished: {skip_outbox_backlog(database_url)}")
    relay_log, worker_log = tmp_path / "relay.log", tmp_path / "worker.log"
    relay, worker = relay_process(env, relay_log), worker_process(env, worker_log)
    with running(relay, worker):
        await ready(relay, relay_log, RELAY_READY)
        await ready(worker, worker_log, WORKER_READY)
        sku = f"F-{unique}"
        product_id = await bus.handle(c.CreateProduct(name=f"Fresh Lantern {unique}", sku=sku, price_amount=1000,
                                                      currency="EUR"))
        await add_categories(lambda: PostgresUnitOfWork(engine, UuidIdGenerator()), f"fresh-{unique}")
        await bus.handle(c.UpdateProduct(product_id=product_id, category_ids=[f"fresh-{unique}"]))
        query = IndexQuery(category_id=f"fresh-{unique}", facets=False)
        await eventually(lambda: _found(index, query), what="the new product to be searchable")
        async with PostgresUnitOfWork(engine, UuidIdGenerator()) as tx:
            price_list = await tx.price_lists.default_for("EUR")
        await bus.handle(inv.AddLocation(id=f"fresh-{unique}", name="Fresh"))
        timings = []
        for amount in (1100, 1200, 1300):
            await bus.handle(c.SetPrices(price_list_id=price_list.id, prices=[c.PriceSpec(sku=sku, amount=amount)]))
            timings.append(await seconds_until(lambda hit, a=amount: hit.price == a, index, query,
                                               what=f"price {amount} to be searchable"))
        await bus.handle(inv.ReceiveStock(sku=sku, location_id=f"fresh-{unique}", quantity=1, actor="test"))
        await bus.handle(inv.AdjustStock(sku=sku, location_id=f"fresh-{unique}", delta=-1, reason="lost",
                                         actor="test"))
        timings.append(await seconds_until(lambda hit: not hit.in_stock, index, query,
                                           what="sold out to be searchable"))
    late = f"change -> searchable took {', '.join(f'{t:.2f}' for t in timings)} s; the promise is {PROMISE} s"
    if STRICT:
        assert max(timings) < PROMISE, late
    elif max(timings) >= PROMISE:
        warnings.warn(f"{late} (not failed: a busy machine is slow, EMPORIUM_STRICT_LATENCY=1 fails it)",
                      stacklevel=1)
