"""A burst of 200 product updates delivered out of order, twice and concurrently still leaves the
document equal to a fresh rebuild from the write side — on the fake and on PostgreSQL."""

from __future__ import annotations

import asyncio
import random

from adapters.memory.clock import FakeClock
from application.catalog import commands as c
from application.catalog.handlers import build_document
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
    assert purger.purged == [[f"product-{product_id}", "product-listings"]] * len(changes)

    # A rebuild that changes nothing purges nothing.
    from application.catalog.handlers import rebuild_catalog

    await rebuild_catalog(uow=harness.uow())
    assert len([m for m in await harness.outbox_for(product_id) if m.topic == ProductDocumentChanged.topic]) == len(
        changes
    )
