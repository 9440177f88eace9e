"""/store/search and /admin/search on the real stack: parameters, problems, rescue, merchandising, logging."""

from __future__ import annotations

import functools
from datetime import UTC, datetime

import pytest
from dependency_injector import providers

from adapters.memory.analytics import InlineTrackingQueue
from adapters.memory.clock import SequentialIds
from adapters.postgres.search import PostgresSearchIndex
from adapters.postgres.unit_of_work import PostgresUnitOfWork
from adapters.system.clock import SystemClock
from application.catalog import commands as c
from application.catalog.projection import project_product
from application.search.indexer import index_products
from domain.staff.roles import Role
from tests.support.bus import build_bus
from tests.support.categories import add_categories
from tests.support.http_app import client_for, settings_for, token_for


@pytest.fixture(scope="module")
def client(database_url: str, redis_url: str):
    with client_for(settings_for(database_url, redis_url)) as c:
        container = c.app.state.container
        container.tracking_queue.override(providers.Object(InlineTrackingQueue(container.uow_factory())))
        yield c


@pytest.fixture
async def shelf(client, engine, unique):
    # Set up on the test's own engine and loop; the app serves from its own.
    uow = functools.partial(PostgresUnitOfWork, engine, SequentialIds())
    bus = build_bus(uow=uow, clock=SystemClock(), ids=SequentialIds())
    await add_categories(uow, f"cat-{unique}")
    ids = []
    for n, (name, price) in enumerate([("Trail Running Shoes", 8000), ("Road Running Shoes", 12000),
                                       ("Running Socks", 1500)]):
        product_id = await bus.handle(c.CreateProduct(name=f"{name} {unique}", sku=f"S{n}-{unique}",
                                                      price_amount=price, currency="EUR"))
        await bus.handle(c.UpdateProduct(product_id=product_id, category_ids=[f"cat-{unique}"],
                                         attributes={"colour": "red" if n else "blue"}))
        ids.append(product_id)
    async with uow() as tx:
        for product_id in ids:
            await project_product(product_id, tx)
        await tx.commit()
    async with uow() as tx:
        await index_products(ids, tx, PostgresSearchIndex(engine))
    return ids


def test_search_with_filters_facets_and_highlight(client, shelf, unique) -> None:
    response = client.get("/store/search", params={"q": f"runing shoes {unique}", "category": f"cat-{unique}",
                                                   "max_price": 20000, "attr.colour": "red", "in_stock": "true"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert [h["id"] for h in body["hits"]] == [shelf[1]]
    assert body["facets"]["attr.colour"] == {"red": 1}
    assert "<mark>" in body["hits"][0]["highlight"]
    assert body["rescue"] is None
    assert response.headers["cache-control"] == "private, no-store"


def test_sort_and_a_page_past_the_end(client, shelf, unique) -> None:
    body = client.get("/store/search", params={"category": f"cat-{unique}", "sort": "price_asc"}).json()
    assert [h["id"] for h in body["hits"]] == [shelf[2], shelf[0], shelf[1]]
    past = client.get("/store/search", params={"category": f"cat-{unique}", "page": 50}).json()
    assert (past["hits"], past["total"], past["rescue"]) == ([], 3, None)


@pytest.mark.parametrize("params", [
    {"q": "shoes", "colour": "red"},  # unknown filter (attributes are attr.<name>)
    {"q": "shoes", "min_price": -1},
    {"q": "shoes", "min_price": 500, "max_price": 100},
    {"q": "shoes", "sort": "cheapest"},
    {"q": "shoes", "page": 0},
    {"q": "shoes", "in_stock": "maybe"},
    {"q": "x" * 201},
])
def test_bad_parameters_are_a_400_problem(client, params) -> None:
    response = client.get("/store/search", params=params)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_a_zero_result_search_is_rescued_and_logged(client, engine, shelf, unique) -> None:
    response = client.get("/store/search", params={"q": f"qwerty{unique[:3]}", "category": f"cat-{unique}"},
                          headers={"X-Anonymous-Id": f"anon-{unique}"})
    body = response.json()
    assert body["rescue"]["strategy"] == "popular_in_category"
    assert len(body["hits"]) == 3
    today = datetime.now(UTC).date().isoformat()
    token = await token_for(engine, Role.MERCHANDISER)
    report = client.get("/admin/reports/search-terms", params={"from": today, "to": today, "zero_results": "true",
                                                               "limit": 1000},
                        headers={"Authorization": f"Bearer {token}"}).json()
    assert f"qwerty{unique[:3]}" in [row["term"] for row in report]


def test_suggest_completes_a_prefix(client, shelf, unique) -> None:
    body = client.get("/store/search/suggest", params={"q": f"{unique} trail runn"}).json()
    assert body["suggestions"] == [f"Trail Running Shoes {unique}"]
    assert client.get("/store/search/suggest").status_code == 400


async def test_merchandisers_manage_synonyms_rules_and_redirects(client, engine, shelf, unique) -> None:
    token = await token_for(engine, Role.MERCHANDISER)
    auth = {"Authorization": f"Bearer {token}"}
    group = client.post("/admin/search/synonyms", json={"terms": [f"zap{unique}", "running socks"]}, headers=auth)
    assert group.status_code == 201, group.text
    found = client.get("/store/search", params={"q": f"zap{unique}", "category": f"cat-{unique}"}).json()
    assert [h["id"] for h in found["hits"]] == [shelf[2]]
    rule = client.post("/admin/search/rules", json={"kind": "pin", "query": f"zap{unique}",
                                                    "product_ids": [shelf[0]]}, headers=auth)
    assert rule.status_code == 201
    pinned = client.get("/store/search", params={"q": f"zap{unique}", "category": f"cat-{unique}"}).json()
    assert [h["id"] for h in pinned["hits"]] == [shelf[0], shelf[2]]
    redirect = client.post("/admin/search/redirects", json={"query": f"help {unique}", "url": "/pages/help"},
                           headers=auth)
    assert client.get("/store/search", params={"q": f"Help  {unique}"}).json()["redirect"] == "/pages/help"
    bad = client.post("/admin/search/rules", json={"kind": "pin", "product_ids": ["x"]}, headers=auth)
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    overview = client.get("/admin/search", headers=auth).json()
    assert group.json()["id"] in [g["id"] for g in overview["synonym_groups"]]
    for path in (f"synonyms/{group.json()['id']}", f"rules/{rule.json()['id']}",
                 f"redirects/{redirect.json()['id']}"):
        assert client.delete(f"/admin/search/{path}", headers=auth).status_code == 204
    assert client.delete(f"/admin/search/rules/{rule.json()['id']}", headers=auth).status_code == 404
    after = client.get("/store/search", params={"q": f"zap{unique}", "category": f"cat-{unique}"}).json()
    assert after["rescue"] is not None
    assert client.post("/admin/search/rules", json={}).status_code == 401
