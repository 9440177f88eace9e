"""The search indexer fed from the outbox, and merchandising storage, on the fake and on PostgreSQL."""

from __future__ import annotations

import pytest

from adapters.memory.clock import FakeClock
from adapters.memory.search import MemorySearchIndex
from adapters.postgres.search import PostgresSearchIndex
from application.catalog import commands as c
from application.inventory import commands as inv
from application.search.indexer import reindex
from application.search.ports import IndexQuery
from application.subscriptions import build_registry
from domain.search.merchandising import MerchandisingRule, Redirect, RuleKind, SynonymGroup
from domain.shared.errors import Conflict
from tests.support.bus import build_bus
from tests.support.categories import add_categories
from tests.support.delivery import deliver_outbox


@pytest.fixture
async def index(harness):
    if harness.name == "memory":
        return MemorySearchIndex()
    index = PostgresSearchIndex(harness.engine)
    await index.clear()
    return index


async def test_price_stock_and_status_changes_reach_the_index(harness, index, unique) -> None:
    bus = build_bus(uow=harness.uow(), clock=FakeClock(), ids=harness.ids)
    registry = build_registry(search=index)
    sku = f"IDX-{unique}"
    product_id = await bus.handle(c.CreateProduct(name=f"Waterproof Hiking Boots {unique}", sku=sku,
                                                  price_amount=9900, currency="EUR"))
    await add_categories(harness.uow(), f"boots-{unique}")
    await bus.handle(c.UpdateProduct(product_id=product_id, category_ids=[f"boots-{unique}"],
                                     attributes={"colour": "brown"}))
    seen: set[str] = set()
    await deliver_outbox(harness, registry, [product_id], seen)
    query = IndexQuery(text=f"hiking boots {unique}", category_id=f"boots-{unique}")
    hit = (await index.search(query)).hits[0]
    assert (hit.id, hit.price, hit.in_stock) == (product_id, 9900, True)
    assert (await index.search(IndexQuery(category_id=f"boots-{unique}", attributes={"colour": "brown"}))).total == 1

    async with harness.uow()() as tx:
        price_list = await tx.price_lists.default_for("EUR")
    await bus.handle(c.SetPrices(price_list_id=price_list.id, prices=[c.PriceSpec(sku=sku, amount=7900)]))
    await deliver_outbox(harness, registry, [product_id, price_list.id], seen)
    assert (await index.search(query)).hits[0].price == 7900

    location = f"loc-{unique}"
    await bus.handle(inv.AddLocation(id=location, name="Main"))
    await bus.handle(inv.ReceiveStock(sku=sku, location_id=location, quantity=1, actor="test"))
    await bus.handle(inv.AdjustStock(sku=sku, location_id=location, delta=-1, reason="damaged", actor="test"))
    await deliver_outbox(harness, registry, [f"{sku}@{location}"], seen)
    in_stock_only = IndexQuery(category_id=f"boots-{unique}", in_stock=True)
    assert (await index.search(in_stock_only)).total == 0

    await bus.handle(c.UpdateProduct(product_id=product_id, status="archived"))
    await deliver_outbox(harness, registry, [product_id], seen)
    assert (await index.search(IndexQuery(category_id=f"boots-{unique}"))).total == 0


async def test_stock_moving_between_some_and_more_leaves_the_index_alone_and_selling_out_updates_it(
    harness, index, unique,
) -> None:
    """A sale's every unit need not reindex its product: only a change between none and some can change
    whether it is on sale. Selling the last unit does, and so does a restock."""

    class Counting:
        def __init__(self, inner) -> None:
            self.inner, self.upserts = inner, 0

        async def upsert(self, documents, *, wait: bool = False) -> None:
            self.upserts += 1
            await self.inner.upsert(documents, wait=wait)

        def __getattr__(self, name):
            return getattr(self.inner, name)

    counted = Counting(index)
    bus = build_bus(uow=harness.uow(), clock=FakeClock(), ids=harness.ids)
    registry = build_registry(search=counted)
    sku, location = f"IDX-{unique}", f"loc-{unique}"
    product_id = await bus.handle(c.CreateProduct(name=f"Trail Runner {unique}", sku=sku, price_amount=9900,
                                                  currency="EUR"))
    await add_categories(harness.uow(), f"run-{unique}")
    await bus.handle(c.UpdateProduct(product_id=product_id, category_ids=[f"run-{unique}"]))
    await bus.handle(inv.AddLocation(id=location, name="Main"))
    await bus.handle(inv.ReceiveStock(sku=sku, location_id=location, quantity=3, actor="test"))
    seen: set[str] = set()
    await deliver_outbox(harness, registry, [product_id, f"{sku}@{location}"], seen)
    on_sale = IndexQuery(category_id=f"run-{unique}", in_stock=True)
    assert (await index.search(on_sale)).total == 1

    before = counted.upserts
    first = await bus.handle(inv.ReserveStock(reference=f"a-{unique}", lines=[(sku, 2)]))
    await deliver_outbox(harness, registry, [f"{sku}@{location}"], seen)
    assert counted.upserts == before  # 3 -> 1 available: still on sale, nothing to reindex
    await bus.handle(inv.ReserveStock(reference=f"b-{unique}", lines=[(sku, 1)]))
    await deliver_outbox(harness, registry, [f"{sku}@{location}"], seen)
    assert counted.upserts == before + 1
    assert (await index.search(on_sale)).total == 0  # the last unit held: off sale
    await bus.handle(inv.ReleaseReservation(reservation_id=first))
    await deliver_outbox(harness, registry, [f"{sku}@{location}"], seen)
    assert (await index.search(on_sale)).total == 1  # units back: on sale again


async def test_reindex_rebuilds_only_active_products(harness, index, unique) -> None:
    bus = build_bus(uow=harness.uow(), clock=FakeClock(), ids=harness.ids)
    await add_categories(harness.uow(), f"lamps-{unique}")
    for n in range(3):
        product_id = await bus.handle(c.CreateProduct(name=f"Reindexed Lamp {n}", sku=f"RI{n}-{unique}",
                                                      price_amount=100, currency="EUR"))
        await bus.handle(c.UpdateProduct(product_id=product_id, category_ids=[f"lamps-{unique}"],
                                         status="draft" if n == 2 else None))
    from application.catalog.projection import rebuild_catalog

    await rebuild_catalog(uow=harness.uow())
    seen: list[tuple[int, int]] = []
    await reindex(uow=harness.uow(), index=index, progress=lambda done, total: seen.append((done, total)),
                  page_size=2)
    assert (await index.search(IndexQuery(category_id=f"lamps-{unique}"))).total == 2
    assert seen[-1][0] == seen[-1][1]


async def test_merchandising_is_stored_and_removed(harness, unique) -> None:
    group = SynonymGroup.create(id=f"g-{unique}", terms=["Sneakers", "trainers", "sneakers"])
    rule = MerchandisingRule.create(id=f"r-{unique}", kind="pin", query=" Boots ", product_ids=["a", "b", "a"])
    redirect = Redirect.create(id=f"d-{unique}", query=f"Returns {unique}", url="/pages/returns")
    async with harness.uow()() as tx:
        await tx.merchandising.add_synonym_group(group)
        await tx.merchandising.add_rule(rule)
        await tx.merchandising.add_redirect(redirect)
        await tx.commit()
    async with harness.uow()() as tx:
        assert group in await tx.merchandising.synonym_groups()
        stored = next(r for r in await tx.merchandising.rules() if r.id == rule.id)
        assert (stored.kind, stored.query, stored.product_ids) == (RuleKind.PIN, "boots", ("a", "b"))
        assert redirect in await tx.merchandising.redirects()
        with pytest.raises(Conflict):
            await tx.merchandising.add_redirect(Redirect.create(id=f"e-{unique}", query=f"returns {unique}",
                                                                url="/other"))
    async with harness.uow()() as tx:
        assert await tx.merchandising.remove_rule(rule.id)
        assert not await tx.merchandising.remove_rule(rule.id)
        assert await tx.merchandising.remove_synonym_group(group.id)
        assert await tx.merchandising.remove_redirect(redirect.id)
        await tx.commit()
