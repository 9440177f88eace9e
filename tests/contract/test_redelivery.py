"""``UnconsumedEvents`` on the in-memory fake and on PostgreSQL, and the relay's sweep over it: what a
broker lost (published, never processed) is published again to the consumer that missed it, once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from adapters.memory.clock import FakeClock
from adapters.memory.outbox import MemoryPublisher
from adapters.memory.redelivery import MemoryUnconsumedEvents
from adapters.postgres.redelivery import PostgresUnconsumedEvents
from application.catalog.commands import CreateProduct
from application.catalog.handlers import create_product
from application.messaging.consumers import Consumer, ConsumerRegistry
from application.messaging.redelivery import Redelivery
from application.ports.redelivery import EVERY_TOPIC
from domain.catalog.product import ProductSaved


async def _published_product(harness, unique: str) -> str:
    """A product saved and its events published (the relay's claim): the id of its ProductSaved message."""
    product_id = await create_product(
        CreateProduct(name=f"Lost {unique}", sku=f"L-{unique}", price_amount=1, currency="EUR"),
        uow=harness.uow(), clock=FakeClock(), ids=harness.ids,
    )
    while True:
        async with harness.outbox_store.claim(500) as batch:
            pass
        if not batch:
            break
    [message] = [m for m in await harness.outbox_for(product_id) if m.topic == ProductSaved.topic]
    return message.id


def _events(harness):
    return MemoryUnconsumedEvents(harness.db) if hasattr(harness, "db") else PostgresUnconsumedEvents(harness.engine)


async def _processed(harness, consumer: str, event_id: str) -> None:
    async with harness.uow()() as tx:
        await tx.processed.mark(consumer, event_id)
        await tx.commit()


async def test_a_published_event_a_consumer_did_not_process_is_found_for_that_consumer_only(harness, unique) -> None:
    event_id = await _published_product(harness, unique)
    await _processed(harness, f"done-{unique}", event_id)
    takes = [(ProductSaved.topic, f"done-{unique}"), (ProductSaved.topic, f"missed-{unique}"),
             (EVERY_TOPIC, f"everything-{unique}"), ("some.other.topic", f"elsewhere-{unique}")]
    now = datetime.now(UTC)
    found = await _events(harness).unconsumed(takes, published_after=now - timedelta(hours=1),
                                               published_before=now + timedelta(minutes=1), limit=100_000)
    mine = sorted(consumer for consumer, message in found if message.id == event_id)
    assert mine == [f"everything-{unique}", f"missed-{unique}"]
    [(_, message)] = [(c, m) for c, m in found if m.id == event_id and c == f"missed-{unique}"]
    assert message.topic == ProductSaved.topic
    assert message.payload["product"]["name"] == f"Lost {unique}"
    too_recent = await _events(harness).unconsumed(takes, published_after=now - timedelta(hours=1),
                                                    published_before=now - timedelta(minutes=10), limit=100_000)
    assert event_id not in {m.id for _, m in too_recent}  # still within its grace: not lost yet


async def test_the_sweep_publishes_a_lost_event_again_to_the_consumer_that_missed_it_once(harness, unique) -> None:
    event_id = await _published_product(harness, unique)
    registry = ConsumerRegistry([Consumer(f"missed-{unique}").on(ProductSaved.topic, _nothing)])
    publisher = MemoryPublisher()
    clock = FakeClock(datetime.now(UTC) + timedelta(minutes=3))  # the grace (2 min) has passed
    moments = iter([0.0, 1.0, 700.0])
    sweep = Redelivery(_events(harness), publisher, registry, clock, monotonic=lambda: next(moments))
    await sweep.sweep()
    assert [(c, m.id) for c, m in publisher.sent if m.id == event_id] == [(f"missed-{unique}", event_id)]
    await sweep.sweep()  # a second later: sent already, its consumer may still be on it
    assert len([m for _, m in publisher.sent if m.id == event_id]) == 1
    await sweep.sweep()  # ten minutes on and still not processed: once more
    assert len([m for _, m in publisher.sent if m.id == event_id]) == 2
    await _processed(harness, f"missed-{unique}", event_id)
    sent = len(publisher.sent)
    moments = iter([2000.0])
    await sweep.sweep()
    assert event_id not in {m.id for _, m in publisher.sent[sent:]}  # processed at last: never again


async def _nothing(event, tx) -> None:
    return None


class Watched(MemoryUnconsumedEvents):
    """The memory adapter, noting the window each sweep asked about."""

    def __init__(self, database) -> None:
        super().__init__(database)
        self.windows: list[tuple[datetime, datetime]] = []

    async def published_topics(self, *, published_after, published_before):
        self.windows.append((published_after, published_before))
        return await super().published_topics(published_after=published_after, published_before=published_before)


async def test_a_sweep_that_found_everything_processed_makes_the_next_look_only_at_what_came_since(
    memory_harness, unique
) -> None:
    event_id = await _published_product(memory_harness, unique)
    registry = ConsumerRegistry([Consumer(f"missed-{unique}").on(ProductSaved.topic, _nothing)])
    clock = FakeClock(datetime.now(UTC) + timedelta(minutes=3))
    events = Watched(memory_harness.db)
    sweep = Redelivery(events, MemoryPublisher(), registry, clock)
    assert await sweep.sweep() == 1  # lost: published again, and the next sweep looks as far back again
    clock.advance(timedelta(seconds=30))
    await sweep.sweep()
    assert events.windows[1][0] == events.windows[0][0] + timedelta(seconds=30)  # still the whole hour
    await _processed(memory_harness, f"missed-{unique}", event_id)
    clock.advance(timedelta(seconds=30))
    assert await sweep.sweep() == 0  # all processed: from now on only what was published since
    clock.advance(timedelta(seconds=30))
    await sweep.sweep()
    assert events.windows[3][0] == events.windows[2][1]
