"""The proving slice through the message bus with in-memory fakes."""

from __future__ import annotations

import pytest

from adapters.memory.clock import FakeClock, SequentialIds
from adapters.memory.outbox import MemoryOutboxStore, MemoryPublisher
from adapters.memory.store import MemoryDatabase, MemoryUnitOfWork
from application.catalog.commands import CreateProduct
from application.catalog.queries import product_by_slug
from application.messaging.consumers import deliver
from application.messaging.relay import OutboxRelay
from application.subscriptions import build_registry
from domain.catalog.pricing import PriceListChanged
from domain.catalog.product import CatalogError, ProductSaved
from domain.shared.money import InvalidCurrency
from tests.support.bus import build_bus
from tests.support.unit import peek_outbox, was_processed


@pytest.fixture
def db() -> MemoryDatabase:
    return MemoryDatabase()


@pytest.fixture
def uow(db: MemoryDatabase):
    ids = SequentialIds()
    return lambda: MemoryUnitOfWork(db, ids)


@pytest.fixture
def outbox(db: MemoryDatabase) -> MemoryOutboxStore:
    return MemoryOutboxStore(db)


@pytest.fixture
def bus(uow):
    return build_bus(uow=uow, clock=FakeClock(), ids=SequentialIds())


async def test_creating_a_product_writes_it_and_its_event_in_one_commit(bus, uow, outbox) -> None:
    product_id = await bus.handle(CreateProduct(name="Trail Runner", sku="TR-1", price_amount=12900, currency="EUR"))
    async with uow() as tx:
        product = await tx.products.get(product_id)
        [price_list] = await tx.price_lists.for_skus(["TR-1"])  # every list there is
    assert product.slug == "trail-runner"
    messages = await peek_outbox(outbox)
    assert sorted(m.topic for m in messages) == [PriceListChanged.topic, ProductSaved.topic]
    saved = next(m for m in messages if m.topic == ProductSaved.topic)
    assert saved.payload["product"]["variants"][0]["sku"] == "TR-1"
    assert (price_list.currency, price_list.prices["TR-1"].amount) == ("EUR", 12900)


@pytest.mark.parametrize(
    ("command", "error"),
    [
        (CreateProduct(name=" ", sku="A-1", price_amount=100, currency="EUR"), CatalogError),
        (CreateProduct(name="X", sku="A-1", price_amount=-1, currency="EUR"), CatalogError),
        (CreateProduct(name="X", sku="A-1", price_amount=100), CatalogError),
        (CreateProduct(name="X", sku="A 1", price_amount=100, currency="EUR"), CatalogError),
        (CreateProduct(name="X", sku="A-1", price_amount=100, currency="EURO"), InvalidCurrency),
    ],
)
async def test_invalid_products_are_refused_and_nothing_is_written(bus, uow, outbox, command, error) -> None:
    with pytest.raises(error):
        await bus.handle(command)
    async with uow() as tx:
        assert await tx.products.all_ids() == []
        assert await tx.price_lists.for_skus([command.sku]) == []  # every list there is: none
    assert await outbox.backlog() == 0


async def test_relay_sends_one_message_per_consumer_and_marks_it_published(bus, db, uow) -> None:
    await bus.handle(CreateProduct(name="Road Racer", sku="RR-1", price_amount=14900, currency="EUR"))
    publisher = MemoryPublisher()
    relay = OutboxRelay(MemoryOutboxStore(db), publisher, build_registry())
    assert await relay.relay_once() == 2
    assert await relay.relay_once() == 0
    # One broker message per consumer, carrying the claimed events it wants in outbox order.
    assert sorted((c, [m.topic for m in burst]) for c, burst in publisher.bursts) == [
        ("analytics_facts", [ProductSaved.topic, PriceListChanged.topic]),
        ("catalog_projection", [ProductSaved.topic, PriceListChanged.topic]),
    ]

    consumer, message = next((c, m) for c, m in publisher.sent if (c, m.topic) == ("catalog_projection",
                                                                                      ProductSaved.topic))
    assert await deliver(build_registry(), consumer, message, uow) is True
    assert await deliver(build_registry(), consumer, message, uow) is False  # a replay changes nothing
    document = await product_by_slug("road-racer", uow=uow)
    assert document is not None
    assert [p.amount for p in document.price_from] == [14900]
    marked = {(c, m.id) for c, m in publisher.sent if await was_processed(uow, c, m.id)}
    assert marked == {("catalog_projection", message.id)}


async def test_a_failing_consumer_leaves_no_processed_mark(uow, outbox) -> None:
    from application.messaging.consumers import Consumer, ConsumerRegistry
    from application.ports.outbox import OutboxMessage

    async def explode(event, tx) -> None:
        raise RuntimeError("projection bug")

    registry = ConsumerRegistry([Consumer("broken").on(ProductSaved.topic, explode)])
    bus = build_bus(uow=uow, clock=FakeClock(), ids=SequentialIds())
    await bus.handle(CreateProduct(name="Rain Shell", sku="RS-1", price_amount=100, currency="EUR"))
    messages = await peek_outbox(outbox)
    message: OutboxMessage = next(m for m in messages if m.topic == ProductSaved.topic)
    with pytest.raises(RuntimeError):
        await deliver(registry, "broken", message, uow)
    assert [m.id for m in messages if await was_processed(uow, "broken", m.id)] == []  # the retry will run it again


async def test_the_relay_splits_a_consumers_events_into_bursts_of_a_bounded_size(bus, db) -> None:
    for n in range(5):
        await bus.handle(CreateProduct(name=f"Bulk {n}", sku=f"BULK-{n}", price_amount=100, currency="EUR"))
    publisher = MemoryPublisher()
    relay = OutboxRelay(MemoryOutboxStore(db), publisher, build_registry(), batch_size=100, burst_size=4)
    assert await relay.relay_once() == 10
    catalog = [burst for consumer, burst in publisher.bursts if consumer == "catalog_projection"]
    assert [len(burst) for burst in catalog] == [4, 4, 2]
    assert [m.id for burst in catalog for m in burst] == [m.id for m in db.outbox]  # outbox order, each once
