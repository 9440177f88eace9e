"""Categories through the bus on the fake and PostgreSQL, then the storefront pages over HTTP."""

from __future__ import annotations

import pytest

from adapters.memory.clock import FakeClock
from application.catalog.categories import AddCategory, MoveCategory, category_tree, project_categories
from domain.catalog.categories import CategoryTreeChanged
from tests.support.bus import build_bus


async def test_the_tree_projection_follows_moves_and_ignores_stale_snapshots(harness, unique) -> None:
    bus = build_bus(uow=harness.uow(), clock=FakeClock(), ids=harness.ids)
    shoes = await bus.handle(AddCategory(name=f"Shoes {unique}"))
    running = await bus.handle(AddCategory(name=f"Running {unique}", parent_id=shoes))
    socks = await bus.handle(AddCategory(name=f"Socks {unique}"))
    await bus.handle(MoveCategory(category_id=running, parent_id=socks, position=0))
    events = [m for m in await harness.outbox_for("categories") if m.topic == CategoryTreeChanged.topic]
    from application.messaging.codec import event_from_builtins

    for message in [events[-1], events[0]]:  # newest first, then a stale one
        async with harness.uow()() as tx:
            await project_categories(event_from_builtins(message.topic, message.payload), tx)
            await tx.commit()
    nodes = {n.name: n for n in await category_tree(uow=harness.uow())}
    assert [child.name for child in nodes[f"Socks {unique}"].children] == [f"Running {unique}"]
    assert nodes[f"Shoes {unique}"].children == []


async def test_category_pages_over_http(database_url, redis_url, engine, unique) -> None:
    from adapters.postgres.unit_of_work import PostgresUnitOfWork
    from adapters.system.clock import UuidIdGenerator
    from application.catalog.projection import project_product
    from application.messaging.codec import event_from_builtins
    from domain.staff.roles import Role
    from tests.support.harness import PostgresHarness
    from tests.support.http_app import client_for, settings_for, token_for

    auth = {"Authorization": f"Bearer {await token_for(engine, Role.MERCHANDISER)}"}
    uow = lambda: PostgresUnitOfWork(engine, UuidIdGenerator())  # noqa: E731
    with client_for(settings_for(database_url, redis_url)) as client:
        created = client.post("/admin/categories", headers=auth, json={"name": f"Hats {unique}"})
        assert created.status_code == 201, created.text
        hats = created.json()["id"]
        assert client.post("/admin/categories", headers=auth,
                           json={"name": "x", "parent_id": "missing"}).status_code == 404
        assert client.post(f"/admin/categories/{hats}/move", headers=auth,
                           json={"parent_id": hats}).status_code == 422  # below itself
        product = client.post("/admin/products", headers=auth, json={
            "name": f"Cap {unique}", "sku": f"CAP-{unique}", "price": 1500, "currency": "EUR"}).json()["id"]
        assert client.patch(f"/admin/products/{product}", headers=auth,
                            json={"category_ids": [hats]}).status_code == 200

        [latest] = [m for m in await PostgresHarness(engine).outbox_for("categories")
                    if m.topic == CategoryTreeChanged.topic][-1:]
        async with uow() as tx:
            await project_categories(event_from_builtins(latest.topic, latest.payload), tx)
            await project_product(product, tx)
            await tx.commit()

        tree = client.get("/store/categories")
        assert tree.status_code == 200
        assert f"Hats {unique}" in [n["name"] for n in tree.json()]
        page = client.get(f"/store/categories/hats-{unique}?sort=price_asc")
        assert page.status_code == 200, page.text
        assert [p["name"] for p in page.json()["products"]["items"]] == [f"Cap {unique}"]
        assert f"category-{hats}" in page.headers["surrogate-key"]
        assert client.get("/store/categories/no-such-category").status_code == 404


async def test_collections_keep_the_merchandisers_order_and_hide_inactive_products(harness, unique) -> None:
    from application.catalog import commands as c
    from application.catalog.collections import (
        ArrangeCollection,
        CreateCollection,
        collection_page,
        project_collection,
    )
    from application.catalog.projection import project_product
    from application.messaging.codec import event_from_builtins
    from domain.catalog.collections import CollectionChanged
    from domain.shared.errors import NotFound

    bus = build_bus(uow=harness.uow(), clock=FakeClock(), ids=harness.ids)
    first = await bus.handle(
        c.CreateProduct(name=f"First {unique}", sku=f"CF-{unique}", price_amount=1, currency="EUR")
    )
    second = await bus.handle(c.CreateProduct(name=f"Second {unique}", sku=f"CS-{unique}", price_amount=2,
                                              currency="EUR"))
    hidden = await bus.handle(c.CreateProduct(name=f"Hidden {unique}", status="draft",
                                              variants=[c.VariantSpec(sku=f"CH-{unique}")]))
    collection = await bus.handle(CreateCollection(name=f"Summer {unique}"))
    with pytest.raises(NotFound):
        await bus.handle(ArrangeCollection(collection_id=collection, product_ids=["ghost"]))
    await bus.handle(ArrangeCollection(collection_id=collection, product_ids=[second, hidden, first]))
    async with harness.uow()() as tx:
        for product_id in (first, second, hidden):
            await project_product(product_id, tx)
        for message in await harness.outbox_for(collection):
            if message.topic == CollectionChanged.topic:
                await project_collection(event_from_builtins(message.topic, message.payload), tx)
        await tx.commit()
    page = await collection_page(f"summer-{unique}", uow=harness.uow())
    assert page is not None
    assert [p.name for p in page.products] == [f"Second {unique}", f"First {unique}"]


async def test_products_name_existing_categories_and_a_delete_moves_them_or_is_refused(harness, unique) -> None:
    from application.catalog import commands as c
    from application.catalog.categories import DeleteCategory, RenameCategory
    from application.catalog.errors import UnknownCategories
    from application.catalog.projection import project_catalog_events, project_product
    from application.catalog.queries import product_by_slug
    from application.messaging.codec import event_from_builtins
    from domain.catalog.categories import TREE_ID, CategoryInUse

    bus = build_bus(uow=harness.uow(), clock=FakeClock(), ids=harness.ids)
    bags = await bus.handle(AddCategory(name=f"Bags {unique}"))
    totes = await bus.handle(AddCategory(name=f"Totes {unique}", parent_id=bags))
    tote = await bus.handle(c.CreateProduct(name=f"Tote {unique}", sku=f"TOTE-{unique}", price_amount=100,
                                            currency="EUR", category_ids=[totes]))
    with pytest.raises(UnknownCategories, match=f"^no such categories: ghost-{unique}$"):
        await bus.handle(c.UpdateProduct(product_id=tote, category_ids=[bags, f"ghost-{unique}"]))
    async with harness.uow()() as tx:
        assert await tx.categories.known([bags, totes, f"ghost-{unique}"]) == {bags, totes}
        assert {bags, totes} <= {category.id for category in await tx.categories.current()}
        assert await tx.products.in_categories([totes, f"ghost-{unique}"]) == [tote]
        assert await tx.products.in_categories([bags]) == []  # only the categories a product names itself
        await project_product(tote, tx)
        await tx.commit()

    async def project_tree_changes() -> None:
        async with harness.uow()() as tx:
            messages = [m for m in await harness.outbox_for(TREE_ID) if m.topic == CategoryTreeChanged.topic]
            await project_catalog_events([event_from_builtins(m.topic, m.payload) for m in messages[-1:]], tx)
            await tx.commit()

    await bus.handle(RenameCategory(category_id=bags, name=f"Carry {unique}"))
    await project_tree_changes()
    document = await product_by_slug(f"tote-{unique}", uow=harness.uow())
    assert document is not None
    assert [(ref.name, ref.parent_id) for ref in document.categories] == [(f"Carry {unique}", None),
                                                                          (f"Totes {unique}", bags)]

    with pytest.raises(CategoryInUse, match=f"^category {totes} still holds 1 products"):
        await bus.handle(DeleteCategory(category_id=totes))
    with pytest.raises(CategoryInUse, match="has sub-categories"):
        await bus.handle(DeleteCategory(category_id=bags, reassign_to=totes))
    assert await bus.handle(DeleteCategory(category_id=totes, reassign_to=bags)) == 1
    async with harness.uow()() as tx:
        assert (await tx.products.get(tote)).category_ids == (bags,)
        assert await tx.categories.known([totes]) == set()


async def test_a_deleted_collection_stays_gone_when_an_older_change_arrives_late(harness, unique) -> None:
    from application.catalog.collections import (
        CreateCollection,
        DeleteCollection,
        RenameCollection,
        collection_page,
        project_collection,
        project_collection_deleted,
    )
    from application.messaging.codec import event_from_builtins
    from domain.catalog.collections import CollectionChanged, CollectionDeleted
    from domain.shared.errors import Conflict

    bus = build_bus(uow=harness.uow(), clock=FakeClock(), ids=harness.ids)
    first = await bus.handle(CreateCollection(name=f"First {unique}"))
    await bus.handle(CreateCollection(name=f"Second {unique}"))
    with pytest.raises(Conflict):
        await bus.handle(RenameCollection(collection_id=first, name="Clash", slug=f"second-{unique}"))
    assert await bus.handle(RenameCollection(collection_id=first, name=f"Renamed {unique}")) == 2
    await bus.handle(DeleteCollection(collection_id=first))
    messages = await harness.outbox_for(first)
    assert [m.topic for m in messages] == [CollectionChanged.topic] * 2 + [CollectionDeleted.topic]
    async with harness.uow()() as tx:
        for message in [messages[2], messages[0]]:  # the delete, then a late older change
            event = event_from_builtins(message.topic, message.payload)
            if isinstance(event, CollectionDeleted):
                await project_collection_deleted(event, tx)
            else:
                await project_collection(event, tx)
        await tx.commit()
    assert await collection_page(f"first-{unique}", uow=harness.uow()) is None
