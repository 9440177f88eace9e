"""End to end on real PostgreSQL, Redis, the relay process and a Dramatiq worker process."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select, text

from adapters.dramatiq.broker import DramatiqPublisher, make_broker
from adapters.postgres import tables as t
from adapters.postgres.unit_of_work import PostgresUnitOfWork
from adapters.system.clock import SystemClock, UuidIdGenerator
from application.catalog.commands import CreateProduct
from domain.catalog.product import ProductSaved
from tests.support.bus import build_bus
from tests.support.delivery import bus_for, document_version, processed_count, queue_drained
from tests.support.harness import PostgresHarness
from tests.support.http_app import client_for, settings_for
from tests.support.processes import relay_process, running, service_env, skip_outbox_backlog, worker_process
from tests.support.waiting import eventually

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def namespace() -> str:
    return f"emporium-test-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def stack(database_url: str, redis_url: str, namespace: str, tmp_path_factory) -> Iterator[dict[str, str]]:
    """The relay and one worker, running for the whole module."""
    logs = tmp_path_factory.mktemp("logs")
    env = service_env(database_url, redis_url, namespace)
    print(f"outbox rows of earlier tests left unpublished: {skip_outbox_backlog(database_url)}")
    relay = relay_process(env, logs / "relay.log")
    worker = worker_process(env, logs / "worker.log", schedule=True)
    with running(relay, worker):
        yield env


@pytest.fixture
def harness(engine) -> PostgresHarness:
    return PostgresHarness(engine)


async def test_a_created_product_reaches_the_storefront(stack, engine, database_url, redis_url, unique) -> None:
    product_id = await bus_for(engine).handle(
        CreateProduct(name=f"Flow {unique}", sku=f"F-{unique}", price_amount=2500, currency="EUR")
    )
    await eventually(lambda: document_version(engine, product_id))
    with client_for(settings_for(database_url, redis_url)) as client:
        response = client.get(f"/store/products/flow-{unique}")
    assert response.status_code == 200, response.text
    document = response.json()
    assert document["price_from"] == [{"amount": 2500, "currency": "EUR", "display": "€25.00"}]
    assert [v["sku"] for v in document["variants"]] == [f"F-{unique}"]


async def test_the_same_outbox_message_delivered_twice_leaves_one_row(
    stack, engine, harness, redis_url, namespace, unique
) -> None:
    product_id = await bus_for(engine).handle(
        CreateProduct(name=f"Twice {unique}", sku=f"TW-{unique}", price_amount=100, currency="EUR")
    )
    await eventually(lambda: document_version(engine, product_id))
    [message] = [m for m in await harness.outbox_for(product_id) if m.topic == ProductSaved.topic]
    assert await harness.published(message.id)

    publisher = DramatiqPublisher(make_broker(redis_url, namespace=namespace))
    await publisher.publish("catalog_projection", [message])
    await publisher.publish("catalog_projection", [message])
    await eventually(lambda: queue_drained(redis_url, namespace))

    async with engine.connect() as conn:
        rows = await conn.scalar(
            select(func.count()).select_from(t.read_products).where(t.read_products.c.id == product_id)
        )
    assert rows == 1
    assert await processed_count(engine, message.id) == 1




async def test_tracked_events_are_written_by_the_worker_and_every_event_lands_as_a_fact(
    stack, engine, redis_url, namespace, unique
) -> None:
    from datetime import UTC, datetime

    from adapters.dramatiq.tracking import DramatiqTrackingQueue
    from domain.analytics.tracking import Kind, TrackedEvent

    shopper = f"worker-{unique}"
    events = [
        TrackedEvent(id=f"{unique}-{i}", kind=Kind.PRODUCT_VIEWED, occurred_at=datetime.now(UTC), anonymous_id=shopper)
        for i in range(3)
    ]
    queue = DramatiqTrackingQueue(make_broker(redis_url, namespace=namespace))
    await queue.submit(events)
    await queue.submit(events)  # a redelivered batch

    async def stored() -> int:
        async with engine.connect() as conn:
            value = await conn.scalar(
                select(func.count()).select_from(t.tracked_events).where(t.tracked_events.c.anonymous_id == shopper)
            )
        return int(value or 0)

    await eventually(lambda: queue_drained(redis_url, namespace) and True)
    await eventually(stored)
    assert await stored() == 3

    product_id = await bus_for(engine).handle(
        CreateProduct(name=f"Fact {unique}", sku=f"FA-{unique}", price_amount=100, currency="EUR")
    )

    async def fact() -> int:
        async with engine.connect() as conn:
            value = await conn.scalar(
                select(func.count())
                .select_from(t.domain_event_facts)
                .where(
                    t.domain_event_facts.c.aggregate_id == product_id,
                    t.domain_event_facts.c.topic == ProductSaved.topic,
                )
            )
        return int(value or 0)

    await eventually(fact)
    assert await fact() == 1


async def test_the_scheduled_job_releases_expired_reservations(stack, engine, unique) -> None:
    from adapters.memory.inventory import MemoryStockGate
    from application.inventory import commands as inv
    from domain.inventory.reservation import ReservationStatus

    ids = UuidIdGenerator()
    bus = build_bus(
        uow=lambda: PostgresUnitOfWork(engine, ids), clock=SystemClock(), ids=ids, gate=MemoryStockGate()
    )
    sku, location = f"EXP-{unique}", f"wh-{unique}"
    await bus.handle(inv.AddLocation(id=location, name="Warehouse"))
    await bus.handle(inv.ReceiveStock(sku=sku, location_id=location, quantity=2, actor="test"))
    reservation_id = await bus.handle(inv.ReserveStock(reference=unique, lines=[(sku, 2)], ttl_seconds=1))

    async def status() -> str:
        async with PostgresUnitOfWork(engine, ids) as tx:
            return (await tx.reservations.get(reservation_id)).status.value

    # The worker's scheduler (every second in tests, every minute by default) expires it.
    await eventually(lambda: _is(status(), ReservationStatus.EXPIRED.value))
    async with PostgresUnitOfWork(engine, ids) as tx:
        [item] = await tx.stock.levels(sku)
    assert (item.on_hand, item.reserved) == (2, 0)


async def _is(value, expected) -> bool:
    return (await value) == expected


async def test_product_reads_are_edge_cacheable_with_etag_and_304(stack, engine, database_url, redis_url, unique):
    await bus_for(engine).handle(
        CreateProduct(name=f"Cache {unique}", sku=f"CA-{unique}", price_amount=100, currency="EUR")
    )
    with client_for(settings_for(database_url, redis_url)) as client:
        path = f"/store/products/cache-{unique}"
        await eventually(lambda: client.get(path).status_code == 200)
        first = client.get(path)
        assert first.headers["cache-control"] == "public, max-age=60, s-maxage=300, stale-while-revalidate=600"
        assert first.headers["surrogate-key"].startswith("product-")
        etag = first.headers["etag"]
        assert etag.startswith('"')
        again = client.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304
        assert again.content == b""
        assert client.get(path, headers={"If-None-Match": '"stale"'}).status_code == 200
        assert client.get("/health/live").headers["cache-control"] == "private, no-store"


async def test_a_product_document_shows_the_drop_selling_it_cached_no_longer_than_its_opening(
    stack, engine, database_url, redis_url, unique
) -> None:
    from datetime import UTC, datetime, timedelta

    from domain.staff.roles import Role
    from tests.support.http_app import token_for

    await bus_for(engine).handle(
        CreateProduct(name=f"Dropped {unique}", sku=f"DR-{unique}", price_amount=100, currency="EUR"))
    auth = {"Authorization": f"Bearer {await token_for(engine, Role.MERCHANDISER)}"}
    opens = (datetime.now(UTC) + timedelta(minutes=5)).replace(microsecond=0)
    with client_for(settings_for(database_url, redis_url, document_cache_seconds=0)) as client:
        path = f"/store/products/dropped-{unique}"
        await eventually(lambda: client.get(path).status_code == 200)
        assert client.get(path).json()["drops"] == []
        drop = client.post("/admin/drops", headers=auth, json={
            "name": "Spring", "skus": [f"DR-{unique}"], "opens_at": opens.isoformat(), "time_zone": "Asia/Tokyo",
            "per_customer_limit": 1}).json()
        shown = client.get(path)
        [summary] = shown.json()["drops"]
        assert (summary["id"], summary["phase"], summary["per_customer_limit"]) == (drop["id"], "upcoming", 1)
        assert summary["opens_at_local"].endswith("+09:00")
        assert f"drop-{drop['id']}" in shown.headers["surrogate-key"].split()
        max_age = int(shown.headers["cache-control"].split("max-age=")[1].split(",")[0])
        assert 0 < max_age <= 300  # no cache shows "upcoming" past the opening
        assert client.post(f"/admin/drops/{drop['id']}/cancel", headers=auth).status_code == 200
        assert client.get(path).json()["drops"] == []


async def test_a_bulk_import_reaches_storefront_category_page_and_search_each_event_handled_once(
    stack, engine, unique
) -> None:
    """450 products in one transaction (as `emporium seed` writes them): more than two of the relay's claims,
    delivered to each consumer in bursts. Every document, category-page row and search document arrives,
    and each event is marked once per consumer."""
    from datetime import UTC, datetime

    from domain.catalog.product import Product, ProductStatus, Variant

    category = f"cat-{unique}"
    now = datetime.now(UTC)
    products = [
        Product.create(id=f"bulk-{unique}-{n:03d}", name=f"Bulk {unique} {n}", now=now, status=ProductStatus.ACTIVE,
                       variants=(Variant(sku=f"BULK-{unique}-{n:03d}"),), category_ids=(category,))
        for n in range(450)
    ]
    ids = [p.id for p in products]
    async with PostgresUnitOfWork(engine, UuidIdGenerator()) as tx:
        await tx.products.add_many(products)
        await tx.commit()

    async def count(statement) -> int:
        async with engine.connect() as conn:
            return int(await conn.scalar(statement) or 0)

    documents = select(func.count()).select_from(t.read_products).where(t.read_products.c.id.in_(ids))
    listed = select(func.count()).select_from(t.read_product_listing).where(
        t.read_product_listing.c.scope == category, t.read_product_listing.c.currency == "")
    searchable = select(func.count()).select_from(text("search.documents")).where(text("id = ANY(:ids)")).params(
        ids=ids)
    await eventually(lambda: _is(count(documents), 450), what="450 storefront documents")
    await eventually(lambda: _is(count(listed), 450), what="450 rows on the category page")
    await eventually(lambda: _is(count(searchable), 450), what="450 search documents")

    async with engine.connect() as conn:
        events = select(t.outbox.c.id).where(t.outbox.c.aggregate_id.in_(ids), t.outbox.c.topic == ProductSaved.topic)
        marks = (await conn.execute(
            select(t.processed_events.c.consumer, func.count())
            .where(t.processed_events.c.event_id.in_(events))
            .group_by(t.processed_events.c.consumer)
        )).all()
    assert dict(marks) == {"catalog_projection": 450, "analytics_facts": 450}
