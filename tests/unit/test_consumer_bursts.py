"""A consumer handed a burst of events (``deliver_many``): one unit of work for the burst, a replay that
runs only what was not done, a poison event that fails alone, consumers that keep one event per transaction."""

from __future__ import annotations

import pytest

from adapters.memory.clock import FakeClock, SequentialIds
from adapters.memory.store import MemoryDatabase, MemoryUnitOfWork
from application.catalog.commands import CreateProduct
from application.messaging.consumers import BurstFailed, Consumer, ConsumerRegistry, deliver_many
from application.ports.outbox import OutboxMessage
from domain.catalog.pricing import PriceListChanged
from domain.catalog.product import ProductSaved
from tests.support.bus import build_bus
from tests.support.counting import CountingUow
from tests.support.unit import peek_outbox, was_processed


@pytest.fixture
def db() -> MemoryDatabase:
    return MemoryDatabase()


@pytest.fixture
def uow(db: MemoryDatabase) -> CountingUow:
    ids = SequentialIds()
    return CountingUow(lambda: MemoryUnitOfWork(db, ids))


async def _events(db: MemoryDatabase, uow: CountingUow, count: int) -> list[OutboxMessage]:
    from adapters.memory.outbox import MemoryOutboxStore

    bus = build_bus(uow=uow, clock=FakeClock(), ids=SequentialIds())
    for n in range(count):
        await bus.handle(CreateProduct(name=f"Burst {n}", sku=f"BURST-{n}", price_amount=100, currency="EUR"))
    uow.opened = 0
    return await peek_outbox(MemoryOutboxStore(db))


class Seen:
    """What a test consumer was handed, burst by burst (topics in order), failing on the ids in ``poison``."""

    def __init__(self, poison: set[str] | None = None) -> None:
        self.bursts: list[list[str]] = []
        self.poison = poison or set()

    async def many(self, events: list[object], tx: object) -> None:
        self.bursts.append([type(e).__name__ for e in events])
        if self.poison & {e.aggregate_id for e in events}:  # type: ignore[attr-defined]
            raise RuntimeError("poison")

    async def one(self, message: OutboxMessage, tx: object) -> None:
        self.bursts.append([message.topic])


async def test_a_burst_is_one_unit_of_work_with_its_runs_of_one_kind_handed_over_together(db, uow) -> None:
    messages = await _events(db, uow, 3)  # each product: ProductSaved, then PriceListChanged
    seen = Seen()
    registry = ConsumerRegistry([Consumer("c").on_many([ProductSaved.topic], seen.many)
                                 .on_message(PriceListChanged.topic, seen.one)])
    saves = [m for m in messages if m.topic == ProductSaved.topic]
    burst = saves + [m for m in messages if m.topic == PriceListChanged.topic][:1]
    assert await deliver_many(registry, "c", burst, uow) == 4
    assert uow.opened == 1
    assert seen.bursts == [["ProductSaved"] * 3, [PriceListChanged.topic]]
    assert all([await was_processed(uow, "c", m.id) for m in burst])


async def test_a_redelivered_burst_runs_only_the_events_not_done(db, uow) -> None:
    messages = await _events(db, uow, 4)
    saves = [m for m in messages if m.topic == ProductSaved.topic]
    seen = Seen()
    registry = ConsumerRegistry([Consumer("c").on_many([ProductSaved.topic], seen.many)])
    assert await deliver_many(registry, "c", saves[:2], uow) == 2
    assert await deliver_many(registry, "c", saves, uow) == 2  # the first two are replays
    assert await deliver_many(registry, "c", saves, uow) == 0
    assert seen.bursts == [["ProductSaved"] * 2, ["ProductSaved"] * 2]


async def test_a_poison_event_fails_alone_and_the_rest_of_its_burst_is_done(db, uow) -> None:
    messages = await _events(db, uow, 5)
    saves = [m for m in messages if m.topic == ProductSaved.topic]
    poison = saves[2]
    seen = Seen(poison={poison.aggregate_id})
    registry = ConsumerRegistry([Consumer("c").on_many([ProductSaved.topic], seen.many)])

    with pytest.raises(BurstFailed, match="1 of 5 events failed for c"):
        await deliver_many(registry, "c", saves, uow)
    # The burst's transaction, then one per event after it failed.
    assert uow.opened == 1 + 5
    assert [await was_processed(uow, "c", m.id) for m in saves] == [True, True, False, True, True]

    # The broker retries the whole burst: only the poison event runs again, alone, and still fails.
    seen.bursts.clear()
    with pytest.raises(BurstFailed, match="1 of 5 events failed"):
        await deliver_many(registry, "c", saves, uow)
    assert seen.bursts == [["ProductSaved"], ["ProductSaved"]]  # in the burst's transaction, then on its own

    seen.poison.clear()  # fixed: the next retry does it
    assert await deliver_many(registry, "c", saves, uow) == 1
    assert await was_processed(uow, "c", poison.id)


async def test_a_consumer_not_batched_gets_one_unit_of_work_per_event_and_keeps_what_succeeded(db, uow) -> None:
    messages = await _events(db, uow, 3)
    saves = [m for m in messages if m.topic == ProductSaved.topic]
    done: list[str] = []

    async def secure(event: ProductSaved, tx: object) -> None:  # an effect outside the transaction
        if event.aggregate_id == saves[1].aggregate_id:
            raise RuntimeError("down")
        done.append(event.aggregate_id)

    registry = ConsumerRegistry([Consumer("c", batched=False).on(ProductSaved.topic, secure)])
    with pytest.raises(BurstFailed):
        await deliver_many(registry, "c", saves, uow)
    assert uow.opened == 3
    assert done == [saves[0].aggregate_id, saves[2].aggregate_id]  # each once: never repeated by a fallback
    assert [await was_processed(uow, "c", m.id) for m in saves] == [True, False, True]


async def test_an_every_topic_consumer_takes_the_whole_burst_at_once(db, uow) -> None:
    messages = await _events(db, uow, 3)
    handed: list[int] = []

    async def facts(burst: list[OutboxMessage], tx: object) -> None:
        handed.append(len(burst))

    registry = ConsumerRegistry([Consumer("facts").on_every_many(facts)])
    assert registry.consumers_of(ProductSaved.topic) == ["facts"]
    assert await deliver_many(registry, "facts", messages, uow) == 6
    assert handed == [6]
