"""The OutboxStore contract (``OutboxStoreContract``) on the in-memory fake and on PostgreSQL: claim → publish →
marked, backlog, and SKIP LOCKED between relays."""

from __future__ import annotations

import asyncio

import pytest

from adapters.memory.clock import FakeClock
from application.catalog.commands import CreateProduct
from application.catalog.handlers import create_product
from tests.support.waiting import within


async def _create(harness, unique: str, n: int) -> list[str]:
    return [
        await create_product(
            CreateProduct(name=f"Outbox {unique} {i}", sku=f"O-{unique}-{i}", price_amount=1, currency="EUR"),
            uow=harness.uow(), clock=FakeClock(), ids=harness.ids,
        )
        for i in range(n)
    ]


async def _drain(harness) -> list[str]:
    seen: list[str] = []
    while True:
        async with harness.outbox_store.claim(500) as batch:
            seen.extend(m.aggregate_id for m in batch)
        if not batch:
            return seen


class OutboxStoreContract:
    """What every OutboxStore does alike. A subclass provides ``harness``: a unit of work of its kind, with
    its outbox store (``harness.outbox_store``)."""

    @pytest.fixture
    def harness(self):
        raise NotImplementedError("a subclass provides the adapter under test")

    async def test_claimed_messages_are_marked_published_and_not_claimed_again(self, harness, unique) -> None:
        await _drain(harness)  # messages of earlier tests
        ids = await _create(harness, unique, 3)
        assert await harness.outbox_store.backlog() >= 3
        drained = await _drain(harness)
        assert set(ids) <= set(drained)  # each product's event (and its price list's)
        for product_id in ids:
            [message] = await harness.outbox_for(product_id)
            assert await harness.published(message.id)
        assert await _drain(harness) == []
        assert await harness.outbox_store.backlog() == 0

    async def test_a_batch_that_fails_to_publish_stays_unpublished(self, harness, unique) -> None:
        await _drain(harness)
        [product_id] = await _create(harness, unique, 1)
        try:
            async with harness.outbox_store.claim(10) as batch:
                assert product_id in [m.aggregate_id for m in batch]
                raise ConnectionError("broker down")
        except ConnectionError:
            pass
        [message] = await harness.outbox_for(product_id)
        assert not await harness.published(message.id)
        assert product_id in await _drain(harness)

    async def test_two_relays_never_claim_the_same_message(self, harness, unique) -> None:
        await _drain(harness)
        ids = await _create(harness, unique, 20)
        claimed: list[list[str]] = [[], []]
        # aggregate ids repeat (one price list for all twenty products), so compare message ids
        holding, second_claimed = asyncio.Event(), asyncio.Event()
        first_ids: set[str] = set()

        async def first() -> None:
            async with harness.outbox_store.claim(10) as batch:
                claimed[0] = [m.aggregate_id for m in batch]
                first_ids.update(m.id for m in batch)
                holding.set()
                # Still holding the rows until the second relay has claimed. Should its claim wait for these
                # rows instead of skipping them, the bound ends the deadlock as a failure.
                await within(second_claimed.wait(), what="the second relay to claim past the first one's rows")

        async def second() -> None:
            await holding.wait()
            async with harness.outbox_store.claim(100) as batch:
                claimed[1] = [m.aggregate_id for m in batch]
                second_claimed.set()
                assert first_ids.isdisjoint(m.id for m in batch)

        await asyncio.gather(first(), second())
        assert len(claimed[0]) == 10
        assert len(claimed[0]) + len(claimed[1]) == 40  # a product event and a price-list event each
        first = set(claimed[0])
        assert set(ids) <= first | set(claimed[1])

    async def test_wait_for_new_returns_when_a_message_is_committed(self, harness, unique) -> None:
        await _drain(harness)

        async def produce() -> None:
            # A head start for the waiter, not a condition of the test: a notification sent before it
            # waits stays pending on its LISTEN connection (or the fake's event) and still wakes it.
            await asyncio.sleep(0.2)
            await _create(harness, unique, 1)
            if hasattr(harness.outbox_store, "notify"):
                harness.outbox_store.notify()  # the fake has no LISTEN/NOTIFY; the test plays the trigger

        await harness.outbox_store.wait_for_new(0.05)  # opens the listener; times out
        # The waiter would give up only after ten minutes: returning within the (generous) bound means the
        # commit woke it, however slow the machine.
        await within(asyncio.gather(harness.outbox_store.wait_for_new(600.0), produce()),
                     what="the commit to wake the waiting relay")

    async def test_prune_removes_only_old_published_messages(self, harness, unique) -> None:
        from datetime import UTC, datetime, timedelta

        await _drain(harness)
        [published_id] = await _create(harness, unique + "p", 1)
        await _drain(harness)
        [pending_id] = await _create(harness, unique + "u", 1)
        await harness.outbox_store.prune(datetime.now(UTC) - timedelta(days=1))  # nothing is that old
        assert len(await harness.outbox_for(published_id)) == 1
        await harness.outbox_store.prune(datetime(2100, 1, 1, tzinfo=UTC))
        assert await harness.outbox_for(published_id) == []
        assert len(await harness.outbox_for(pending_id)) == 1  # never drop what was not delivered
        await _drain(harness)


class TestMemoryOutboxStore(OutboxStoreContract):
    @pytest.fixture
    def harness(self, memory_harness):
        return memory_harness


class TestPostgresOutboxStore(OutboxStoreContract):
    @pytest.fixture
    def harness(self, postgres_harness):
        return postgres_harness
