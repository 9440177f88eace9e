"""The catalog a cart needs, kept between catalog changes (``CatalogSnapshot``): what a lookup reads
from the database and when it reads again."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.memory.catalog_version import MemoryCatalogVersion
from adapters.memory.clock import FakeClock, SequentialIds
from adapters.memory.store import MemoryDatabase, MemoryUnitOfWork
from application.catalog import commands as c
from application.catalog.queries import offers
from application.catalog.snapshot import CatalogSnapshot
from tests.support.bus import build_bus
from tests.support.counting import CountingUow, HandClock

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


@pytest.fixture
def shop():
    db = MemoryDatabase()
    ids = SequentialIds()
    uow = lambda: MemoryUnitOfWork(db, ids)  # noqa: E731
    return uow, build_bus(uow=uow, clock=FakeClock(NOW), ids=ids)


async def _price(snapshot: CatalogSnapshot, sku: str) -> int:
    found = await offers([sku], currency="EUR", channel="web", at=NOW, catalog=snapshot)
    assert found[sku].unit_price is not None
    return found[sku].unit_price.amount


async def test_a_second_lookup_of_the_same_skus_reads_nothing_while_the_version_stands(shop) -> None:
    uow, bus = shop
    await bus.handle(c.CreateProduct(name="Runner", sku="RUN-1", price_amount=9900, currency="EUR"))
    reads, version = CountingUow(uow), MemoryCatalogVersion()
    snapshot = CatalogSnapshot(reads, version)
    assert await _price(snapshot, "RUN-1") == 9900
    assert await _price(snapshot, "RUN-1") == 9900
    assert reads.opened == 1
    await _price(snapshot, "RUN-1")
    assert reads.opened == 1


async def test_a_new_catalog_version_drops_what_was_kept_and_the_new_price_shows(shop) -> None:
    uow, bus = shop
    await bus.handle(c.CreateProduct(name="Runner", sku="RUN-1", price_amount=9900, currency="EUR"))
    reads, version = CountingUow(uow), MemoryCatalogVersion()
    snapshot = CatalogSnapshot(reads, version)
    assert await _price(snapshot, "RUN-1") == 9900
    async with uow() as tx:
        default_list = next(p for p in await tx.price_lists.for_skus(["RUN-1"]) if p.currency == "EUR")
    await bus.handle(c.SetPrices(price_list_id=default_list.id, prices=[c.PriceSpec(sku="RUN-1", amount=7900)]))
    assert await _price(snapshot, "RUN-1") == 9900  # no bump yet: still the kept list
    await version.bump()
    assert await _price(snapshot, "RUN-1") == 7900
    assert reads.opened == 2


async def test_without_a_known_version_every_lookup_reads_the_database(shop) -> None:
    uow, bus = shop
    await bus.handle(c.CreateProduct(name="Runner", sku="RUN-1", price_amount=9900, currency="EUR"))

    class Unknown:
        async def current(self) -> int | None:
            return None  # Redis away

        async def bump(self) -> None:
            return None

    reads, reads2 = CountingUow(uow), CountingUow(uow)
    for snapshot in (CatalogSnapshot(reads, Unknown()), CatalogSnapshot(reads2)):
        await _price(snapshot, "RUN-1")
        await _price(snapshot, "RUN-1")
    assert (reads.opened, reads2.opened) == (2, 2)


async def test_what_is_kept_ages_out_after_max_age_even_without_a_bump(shop) -> None:
    uow, bus = shop
    await bus.handle(c.CreateProduct(name="Runner", sku="RUN-1", price_amount=9900, currency="EUR"))
    reads, clock = CountingUow(uow), HandClock(0.0)
    snapshot = CatalogSnapshot(reads, MemoryCatalogVersion(), max_age=60.0, monotonic=clock)
    await _price(snapshot, "RUN-1")
    clock.now = 60.0  # at the bound: still kept
    await _price(snapshot, "RUN-1")
    assert reads.opened == 1
    clock.now = 60.5
    await _price(snapshot, "RUN-1")
    assert reads.opened == 2


async def test_the_least_recently_used_sku_set_goes_first_when_full(shop) -> None:
    uow, bus = shop
    for sku in ("A-1", "B-1", "C-1"):
        await bus.handle(c.CreateProduct(name=f"Item {sku}", sku=sku, price_amount=1000, currency="EUR"))
    reads = CountingUow(uow)
    snapshot = CatalogSnapshot(reads, MemoryCatalogVersion(), max_entries=2)
    for sku in ("A-1", "B-1", "A-1", "C-1"):  # A-1 used again: B-1 is the least recent when C-1 comes
        await _price(snapshot, sku)
    assert reads.opened == 3
    await _price(snapshot, "A-1")
    assert reads.opened == 3
    await _price(snapshot, "B-1")
    assert reads.opened == 4


async def test_the_same_skus_in_another_order_are_the_same_lookup(shop) -> None:
    uow, bus = shop
    for sku in ("A-1", "B-1"):
        await bus.handle(c.CreateProduct(name=f"Item {sku}", sku=sku, price_amount=1000, currency="EUR"))
    reads = CountingUow(uow)
    snapshot = CatalogSnapshot(reads, MemoryCatalogVersion())
    first = await snapshot.lookup(["A-1", "B-1"])
    second = await snapshot.lookup(["B-1", "A-1", "B-1"])
    assert first is second
    assert sorted(v.sku for p in first.products for v in p.variants) == ["A-1", "B-1"]
    assert reads.opened == 1


def test_only_product_price_list_and_promotion_commits_concern_the_catalog() -> None:
    assert CatalogSnapshot.concerns(["orders.order_placed.v1", "catalog.product_saved.v1"])
    assert CatalogSnapshot.concerns(["catalog.price_list_changed.v1"])
    assert CatalogSnapshot.concerns(["promotions.promotion_published.v1"])
    assert not CatalogSnapshot.concerns(["inventory.stock_reserved.v1", "catalog.category_tree_changed.v1"])
    assert not CatalogSnapshot.concerns([])


class _Counted(MemoryCatalogVersion):
    """The shared version (another process may bump it), counting how often it is read."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0
        self.known = True

    async def current(self) -> int | None:
        self.reads += 1
        return self.value if self.known else None


async def test_the_kept_version_is_read_again_only_after_its_ttl_and_at_once_after_a_bump_here() -> None:
    from application.catalog.snapshot import KeptVersion

    shared, clock = _Counted(), HandClock()
    kept = KeptVersion(shared, ttl=0.5, monotonic=clock)
    assert [await kept.current() for _ in range(5)] == [0] * 5
    assert shared.reads == 1  # one Redis round trip for many lookups
    shared.value = 7  # bumped by another process: seen once the ttl is over, not before
    clock.now = 0.49
    assert await kept.current() == 0
    clock.now = 0.5
    assert await kept.current() == 7
    assert shared.reads == 2
    await kept.bump()  # bumped here: the very next lookup reads it
    assert await kept.current() == 8
    assert shared.reads == 3


async def test_an_unknown_version_is_never_kept_and_a_zero_ttl_reads_every_time() -> None:
    from application.catalog.snapshot import KeptVersion

    shared, clock = _Counted(), HandClock()
    kept = KeptVersion(shared, ttl=0.5, monotonic=clock)
    shared.known = False  # Redis away: nothing may be kept on its word
    assert [await kept.current(), await kept.current()] == [None, None]
    assert shared.reads == 2
    shared.known = True
    every = KeptVersion(shared, ttl=0, monotonic=clock)
    assert [await every.current(), await every.current()] == [0, 0]
    assert shared.reads == 4
