from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.memory.analytics import InlineTrackingQueue
from adapters.memory.clock import FakeClock, SequentialIds
from adapters.memory.store import MemoryDatabase, MemoryUnitOfWork
from application.analytics.handlers import TrackEvents, funnel_report
from domain.analytics.tracking import Kind, TrackedEvent, TrackingError, check_batch
from tests.support.bus import build_bus

CLOCK = FakeClock()


def event(n: int, kind: Kind = Kind.PRODUCT_VIEWED, shopper: str = "anon-1", **shift: int) -> TrackedEvent:
    return TrackedEvent(
        id=f"evt-{n:06d}", kind=kind, occurred_at=CLOCK.now() + timedelta(**shift), anonymous_id=shopper
    )


@pytest.mark.parametrize(
    "batch",
    [
        [],
        [event(i) for i in range(101)],
        [event(1), event(1)],
        [event(1, minutes=10)],
        [event(1, days=-8)],
    ],
    ids=["empty", "oversized", "repeated-id", "future", "too-old"],
)
def test_a_bad_batch_is_refused_whole(batch: list[TrackedEvent]) -> None:
    with pytest.raises(TrackingError):
        check_batch(batch, now=CLOCK.now())


async def test_a_shopper_session_feeds_the_funnel_and_a_replay_counts_once() -> None:
    db = MemoryDatabase()
    ids = SequentialIds()
    uow = lambda: MemoryUnitOfWork(db, ids)  # noqa: E731
    bus = build_bus(uow=uow, clock=CLOCK, ids=ids, tracking_queue=InlineTrackingQueue(uow))
    session = [
        event(1, Kind.PRODUCT_VIEWED, "a"), event(2, Kind.ADDED_TO_CART, "a"), event(3, Kind.CHECKOUT_STARTED, "a"),
        event(4, Kind.PRODUCT_VIEWED, "b"), event(5, Kind.PRODUCT_VIEWED, "b"), event(6, Kind.ADDED_TO_CART, "b"),
        event(7, Kind.PRODUCT_VIEWED, "c"),
    ]
    assert await bus.handle(TrackEvents(events=session)) == 7
    await bus.handle(TrackEvents(events=session))  # the storefront retried the same batch
    day = CLOCK.now().date()
    funnel = await funnel_report(day, day, uow=uow)
    assert (funnel.viewed, funnel.added_to_cart, funnel.checkout_started, funnel.paid) == (3, 2, 1, 0)


async def test_a_refused_batch_stores_nothing() -> None:
    db = MemoryDatabase()
    ids = SequentialIds()
    uow = lambda: MemoryUnitOfWork(db, ids)  # noqa: E731
    queue = InlineTrackingQueue(uow)
    bus = build_bus(uow=uow, clock=CLOCK, ids=ids, tracking_queue=queue)
    with pytest.raises(TrackingError):
        await bus.handle(TrackEvents(events=[event(1), event(2, minutes=30)]))
    assert queue.batches == []
    day = CLOCK.now().date()
    assert (await funnel_report(day, day, uow=uow)).viewed == 0
