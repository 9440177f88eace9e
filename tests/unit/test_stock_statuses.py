"""What a cart shows of stock, kept a moment per process (``StockStatuses``): one read answers every
cart that asks about a SKU within ``ttl``; ``ttl=0`` reads each time."""

from __future__ import annotations

from datetime import UTC, datetime

from adapters.memory.clock import FakeClock, SequentialIds
from adapters.memory.store import MemoryDatabase, MemoryUnitOfWork
from application.inventory import commands as c
from application.inventory.queries import StockStatuses
from tests.support.bus import build_bus
from tests.support.counting import CountingUow, HandClock

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


async def _shop():
    db, ids = MemoryDatabase(), SequentialIds()
    uow = lambda: MemoryUnitOfWork(db, ids)  # noqa: E731
    bus = build_bus(uow=uow, clock=FakeClock(NOW), ids=ids)
    await bus.handle(c.AddLocation(id="main", name="Main"))
    await bus.handle(c.ReceiveStock(sku="A", location_id="main", quantity=1, actor="ops"))
    return uow, bus


async def test_within_the_ttl_one_read_answers_every_cart_and_after_it_the_status_is_read_again() -> None:
    uow, bus = await _shop()
    reads, clock = CountingUow(uow), HandClock(100.0)
    statuses = StockStatuses(reads, ttl=0.5, monotonic=clock)
    assert (await statuses(["A"]))["A"].status != "sold_out"
    await bus.handle(c.ReserveStock(reference="r", lines=[("A", 1)]))
    clock.now += 0.4
    assert (await statuses(["A"]))["A"].status != "sold_out"  # kept: the hold decides what is sold
    assert reads.opened == 1
    clock.now += 0.1  # at the ttl: read again
    assert (await statuses(["A"]))["A"].status == "sold_out"
    assert reads.opened == 2


async def test_only_the_skus_not_kept_are_read_and_ttl_zero_keeps_nothing() -> None:
    uow, _ = await _shop()
    reads, clock = CountingUow(uow), HandClock(100.0)
    statuses = StockStatuses(reads, ttl=0.5, monotonic=clock)
    await statuses(["A"])
    found = await statuses(["A", "B"])
    assert set(found) == {"A", "B"}
    assert found["B"].status == "sold_out"  # never stocked, tracked: sold out
    assert reads.opened == 2
    await statuses(["A", "B"])
    assert reads.opened == 2
    fresh = CountingUow(uow)
    every_time = StockStatuses(fresh)
    await every_time(["A"])
    await every_time(["A"])
    assert fresh.opened == 2


async def test_the_kept_statuses_are_dropped_only_once_more_than_fifty_thousand_are_kept() -> None:
    uow, _ = await _shop()
    reads, clock = CountingUow(uow), HandClock(100.0)
    statuses = StockStatuses(reads, ttl=60.0, monotonic=clock)
    await statuses([f"S{n}" for n in range(50_000)])
    await statuses(["NEW-1"])  # 50,000 kept is not more than 50,000: NEW-1 is kept beside them
    await statuses(["S0"])
    assert reads.opened == 2  # S0 still kept
    await statuses(["NEW-2"])  # 50,001 kept: all dropped before NEW-2 is kept
    await statuses(["S0"])
    assert reads.opened == 4
