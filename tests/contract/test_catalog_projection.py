"""A burst of 200 product updates delivered out of order, twice and concurrently still leaves the
document equal to a fresh rebuild from the write side — on the fake and on PostgreSQL."""

from __future__ import annotations

import asyncio
import random

from adapters.memory.clock import FakeClock
from application.catalog import commands as c
from application.catalog.read_models import build_document
from application.messaging.consumers import deliver
from application.subscriptions import build_registry
from domain.catalog.pricing import PriceListChanged
from domain.catalog.product import ProductSaved
from tests.support.bus import build_bus


async def test_out_of_order_duplicate_concurrent_delivery_converges_to_a_rebuild(harness, unique) -> None:
    bus = build_bus(uow=harness.uow(), clock=FakeClock(), ids=harness.ids)
    product_id = await bus.handle(
        c.CreateProduct(name=f"Burst {unique}", sku=f"BU-{unique}", price_amount=1000, currency="EUR")
    )
    for n in range(200):
        await bus.handle(c.UpdateProduct(product_id=product_id, description=f"revision {n}"))
    messages = [m for m in await harness.outbox_for(product_id) if m.topic == ProductSaved.topic]
    assert len(messages) == 201

    deliveries = messages * 2
    random.Random(7).shuffle(deliveries)
    registry = build_registry()
    parallel = 8 if harness.name == "postgres" else 1  # the fake takes one unit of work at a time
    for start in range(0, len(deliveries), parallel):
        await asyncio.gather(
            *(deliver(registry, "catalog_projection", m, harness.uow()) for m in deliveries[start:start + parallel])
        )

    async with harness.uow()() as tx:
        stored = await tx.catalog_view.product_by_id(product_id)
        product = await tx.products.get(product_id)
        rebuilt = build_document(product, await tx.price_lists.for_skus([f"BU-{unique}"]))
    assert stored == rebuilt
    assert stored is not None
    assert stored.description == "revision 199"
    assert stored.version == 201


async def test_a_price_change_reaches_every_document_holding_the_sku(harness, unique) -> None:
    bus = build_bus(uow=harness.uow(), clock=FakeClock(), ids=harness.ids)
    product_id = await bus.handle(
        c.CreateProduct(name=f"Priced {unique}", sku=f"PR-{unique}", price_amount=1000, currency="EUR")
    )
    async with harness.uow()() as tx:
        eur = await tx.price_lists.default_for("EUR")
    assert eur is not None
    await bus.handle(c.SetPrices(price_list_id=eur.id, prices=[c.PriceSpec(sku=f"PR-{unique}", amount=1500)]))
    [change] = [m for m in await harness.outbox_for(eur.id) if m.topic == PriceListChanged.topic][-1:]
    assert await deliver(build_registry(), "catalog_projection", change, harness.uow())
    async with harness.uow()() as tx:
        document = await tx.catalog_view.product_by_id(product_id)
    assert document is not None
    assert [p.amount for p in document.price_from] == [1500]


async def test_a_product_change_triggers_exactly_one_purge_after_its_document_is_written(harness, unique) -> None:
    from adapters.memory.cdn import RecordingCdnPurger
    from application.catalog.events import ProductDocumentChanged

    purger = RecordingCdnPurger()
    registry = build_registry(cdn=purger)
    bus = build_bus(uow=harness.uow(), clock=FakeClock(), ids=harness.ids)
    product_id = await bus.handle(
        c.CreateProduct(name=f"Purge {unique}", sku=f"PU-{unique}", price_amount=100, currency="EUR")
    )
    await bus.handle(c.UpdateProduct(product_id=product_id, description="new words"))
    saved = [m for m in await harness.outbox_for(product_id) if m.topic == ProductSaved.topic]
    for message in saved + saved:  # each change, delivered twice
        await deliver(registry, "catalog_projection", message, harness.uow())

    changes = [m for m in await harness.outbox_for(product_id) if m.topic == ProductDocumentChanged.topic]
    # The first delivery already projects the latest revision; later ones find nothing to change,
    # so two quick edits cost one purge — never a purge before the document is written.
    assert len(changes) == 1
    for message in changes + changes:
        await deliver(registry, "cdn_purge", message, harness.uow())
    assert purger.purged == [[f"product-{product_id}", "products"]] * len(changes)  # in no category

    # A rebuild that changes nothing purges nothing.
    from application.catalog.projection import rebuild_catalog

    await rebuild_catalog(uow=harness.uow())
    assert len([m for m in await harness.outbox_for(product_id) if m.topic == ProductDocumentChanged.topic]) == len(
        changes
    )


async def _bulk(harness, unique: str, count: int, tag: str) -> tuple[list[str], list]:
    """``count`` products written in one transaction, as a bulk import does, and the burst of events it made
    (a ProductSaved each and the EUR list's PriceListChanged), in outbox order."""
    from domain.catalog.pricing import Price, PriceList
    from domain.catalog.product import Product, ProductStatus, Variant

    now = FakeClock().now()
    products = [
        Product.create(id=f"{tag}-{unique}-{n}", name=f"Bulk {tag} {unique} {n}", now=now, status=ProductStatus.ACTIVE,
                       variants=(Variant(sku=f"{tag}-{unique}-{n}"),))
        for n in range(count)
    ]
    async with harness.uow()() as tx:
        await tx.products.add_many(products)
        price_list = await tx.price_lists.default_for("EUR")
        if price_list is None:
            price_list = PriceList(id=f"eur-{unique}", name="EUR", currency="EUR")
            await tx.price_lists.add(price_list)
        before = {m.id for m in await harness.outbox_for(price_list.id)}
        price_list.set_prices([Price(sku=f"{tag}-{unique}-{n}", amount=100 + n) for n in range(count)], now=now)
        await tx.price_lists.save(price_list)
        await tx.commit()
    ids = [p.id for p in products]
    priced = [m for m in await harness.outbox_for(price_list.id) if m.id not in before]
    return ids, [m for i in ids for m in await harness.outbox_for(i)] + priced


async def _documents_equal_a_rebuild(harness, ids: list[str]) -> None:
    async with harness.uow()() as tx:
        stored = await tx.catalog_view.products_by_ids(ids)
        products = await tx.products.get_many(ids)
        price_lists = await tx.price_lists.for_skus([v.sku for p in products for v in p.variants])
    assert stored == {p.id: build_document(p, price_lists) for p in products}


async def test_a_bulk_imports_burst_is_projected_at_once_and_converges_to_a_rebuild(harness, unique) -> None:
    from application.catalog.events import ProductDocumentChanged
    from application.messaging.consumers import deliver_many

    ids, burst = await _bulk(harness, unique, 60, "b")
    assert len(burst) == 61
    registry = build_registry()
    random.Random(11).shuffle(burst)  # the order within and across bursts does not matter
    halves = [burst[:30], burst[30:]]
    if harness.name == "postgres":  # two workers at once, each with its burst
        counts = await asyncio.gather(*(deliver_many(registry, "catalog_projection", h, harness.uow()) for h in halves))
    else:
        counts = [await deliver_many(registry, "catalog_projection", h, harness.uow()) for h in halves]
    assert sum(counts) == 61
    await _documents_equal_a_rebuild(harness, ids)
    changed = [m for i in ids for m in await harness.outbox_for(i) if m.topic == ProductDocumentChanged.topic]
    assert sorted(m.aggregate_id for m in changed) == sorted(ids)  # one announcement per product, not per event

    # Redelivered (a worker died before acking), whole and in other bursts: nothing runs, nothing changes.
    assert await deliver_many(registry, "catalog_projection", burst, harness.uow()) == 0
    assert await deliver_many(registry, "catalog_projection", burst[::-1][:7], harness.uow()) == 0
    await _documents_equal_a_rebuild(harness, ids)
    assert len([m for i in ids for m in await harness.outbox_for(i) if m.topic == ProductDocumentChanged.topic]) == 60


async def test_a_bursts_statements_do_not_grow_with_its_size(postgres_harness, unique) -> None:
    """On PostgreSQL: a burst of 10 products' events and one of 100 cost the same statements (the
    projection reads and writes N documents at once), not two or more per product."""
    from sqlalchemy import event

    from application.messaging.consumers import deliver_many

    harness = postgres_harness
    registry = build_registry()
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    sizes = {}
    for size in (1, 10, 100):  # the first also adds EUR to the listing's currencies, should it be new here
        _, burst = await _bulk(harness, unique, size, f"s{size}")
        statements.clear()
        event.listen(harness.engine.sync_engine, "before_cursor_execute", count)
        try:
            assert await deliver_many(registry, "catalog_projection", burst, harness.uow()) == size + 1
        finally:
            event.remove(harness.engine.sync_engine, "before_cursor_execute", count)
        sizes[size] = len(statements)
    assert sizes[10] == sizes[100], sizes
