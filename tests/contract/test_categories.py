"""Categories through the bus on the fake and PostgreSQL, then the storefront pages over HTTP."""

from __future__ import annotations

from adapters.memory.clock import FakeClock
from application.catalog.categories import AddCategory, MoveCategory, category_tree, project_categories
from domain.catalog.categories import CategoryTreeChanged
from entrypoints.container import build_bus


async def test_the_tree_projection_follows_moves_and_ignores_stale_snapshots(harness, unique) -> None:
    bus = build_bus(uow=harness.uow(), clock=FakeClock(), ids=harness.ids)
    shoes = await bus.handle(AddCategory(name=f"Shoes {unique}"))
    running = await bus.handle(AddCategory(name=f"Running {unique}", parent_id=shoes))
    socks = await bus.handle(AddCategory(name=f"Socks {unique}"))
    await bus.handle(MoveCategory(category_id=running, parent_id=socks, position=0))
    events = [m for m in await harness.outbox_for("categories") if m.topic == CategoryTreeChanged.topic]
    from application.codec import event_from_builtins

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
    from application.catalog.handlers import project_product
    from application.codec import event_from_builtins
    from domain.staff.roles import Role
    from tests.contract.harness import PostgresHarness
    from tests.contract.http_support import client_for, settings_for
    from tests.contract.test_http_admin_products import token_for

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
