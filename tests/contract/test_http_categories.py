"""Categories and collections over HTTP on the real stack: a parent's page lists its sub-categories'
products, unknown categories are refused, the listing filters by slug or id, and categories and collections
are renamed, moved and deleted with the documents, search and CDN following through the outbox."""

from __future__ import annotations

import pytest

from adapters.memory.cdn import RecordingCdnPurger
from adapters.memory.search import MemorySearchIndex
from application.search.ports import IndexQuery
from application.subscriptions import build_registry
from domain.catalog.categories import TREE_ID
from domain.staff.roles import Role
from tests.support.delivery import deliver_outbox
from tests.support.harness import PostgresHarness
from tests.support.http_app import client_for, settings_for, token_for


@pytest.fixture(scope="module")
def client(database_url: str, redis_url: str):
    with client_for(settings_for(database_url, redis_url, document_cache_seconds=0)) as c:  # documents as projected
        yield c


class Worker:
    """The consumers of the outbox, run in-process on the messages of the aggregates named."""

    def __init__(self, engine) -> None:
        self.harness = PostgresHarness(engine)
        self.cdn = RecordingCdnPurger()
        self.index = MemorySearchIndex()
        self.registry = build_registry(cdn=self.cdn, search=self.index)
        self.seen: set[str] = set()

    async def run(self, *aggregate_ids: str) -> list[str]:
        """Deliver what is new; the surrogate keys purged meanwhile."""
        self.cdn.purged.clear()
        await deliver_outbox(self.harness, self.registry, [TREE_ID, *aggregate_ids], self.seen)
        return [key for keys in self.cdn.purged for key in keys]


def names(response) -> list[str]:
    assert response.status_code == 200, response.text
    body = response.json()
    return [p["name"] for p in body.get("products", body)["items"]]


async def test_a_category_tree_lists_products_down_the_tree_and_is_renamed_moved_and_deleted(
    client, engine, unique,
) -> None:
    auth = {"Authorization": f"Bearer {await token_for(engine, Role.MERCHANDISER)}"}
    worker = Worker(engine)

    def category(name: str, parent: str | None = None) -> str:
        created = client.post("/admin/categories", headers=auth, json={"name": f"{name} {unique}",
                                                                        "parent_id": parent})
        assert created.status_code == 201, created.text
        return created.json()["id"]

    shoes = category("Shoes")
    running = category("Running", shoes)
    trail = category("Trail", running)
    socks = category("Socks")
    runner = client.post("/admin/products", headers=auth, json={
        "name": f"Runner {unique}", "sku": f"RUN-{unique}", "price": 9900, "currency": "EUR",
        "category_ids": [trail]}).json()["id"]

    # Unknown categories are refused, named, and change nothing.
    refused = client.patch(f"/admin/products/{runner}", headers=auth, json={"category_ids": [trail, "nope"]})
    assert refused.status_code == 422, refused.text
    assert (refused.json()["type"].endswith("/unknown-category"), refused.json()["category_ids"]) == (True, ["nope"])
    assert client.post("/admin/products", headers=auth, json={
        "name": f"Ghost {unique}", "sku": f"GHOST-{unique}", "price": 1, "currency": "EUR",
        "category_ids": ["nope"]}).status_code == 422
    purged = await worker.run(runner)
    assert "categories" in purged
    # The new product's change purges the pages of its category and of every one above it, which list it.
    assert {f"category-{trail}", f"category-{running}", f"category-{shoes}"} <= set(purged)
    assert f"category-{socks}" not in purged
    assert client.get(f"/store/products/ghost-{unique}").status_code == 404

    # A parent's page and the listing by slug or by id show what is in the categories below it.
    assert names(client.get(f"/store/categories/shoes-{unique}")) == [f"Runner {unique}"]
    assert names(client.get(f"/store/products?category=shoes-{unique}")) == [f"Runner {unique}"]
    assert names(client.get(f"/store/products?category={shoes}")) == [f"Runner {unique}"]
    assert names(client.get(f"/store/categories/socks-{unique}")) == []
    assert client.get(f"/store/products?category=no-such-{unique}").status_code == 404
    assert (await worker.index.search(IndexQuery(category_id=shoes))).total == 1
    document = client.get(f"/store/products/runner-{unique}").json()
    assert [c["name"] for c in document["categories"]] == [f"Shoes {unique}", f"Running {unique}", f"Trail {unique}"]

    # A rename reaches the documents (and the CDN); a move below itself is refused; a move carries the
    # products below it along.
    renamed = client.patch(f"/admin/categories/{running}", headers=auth, json={"name": f"Jogging {unique}"})
    assert renamed.status_code == 204, renamed.text
    purged = await worker.run(runner)
    assert {"categories", f"product-{runner}"} <= set(purged)
    document = client.get(f"/store/products/runner-{unique}").json()
    assert f"Jogging {unique}" in [c["name"] for c in document["categories"]]
    assert (await worker.index.search(IndexQuery(text=f"jogging {unique}"))).total == 1
    cycle = client.post(f"/admin/categories/{shoes}/move", headers=auth, json={"parent_id": trail})
    assert cycle.status_code == 422, cycle.text
    assert client.post(f"/admin/categories/{running}/move", headers=auth,
                       json={"parent_id": socks}).status_code == 204
    await worker.run(runner)
    assert names(client.get(f"/store/categories/shoes-{unique}")) == []
    assert names(client.get(f"/store/products?category={socks}")) == [f"Runner {unique}"]
    assert (await worker.index.search(IndexQuery(category_id=shoes))).total == 0
    assert (await worker.index.search(IndexQuery(category_id=socks))).total == 1

    # A category is deleted only once nothing is in it, or with a category to move its products to.
    in_use = client.delete(f"/admin/categories/{trail}", headers=auth)
    assert in_use.status_code == 409, in_use.text
    assert in_use.json()["type"].endswith("/category-in-use")
    assert client.delete(f"/admin/categories/{socks}", headers=auth, params={"reassign_to": shoes}).status_code == 409
    moved = client.delete(f"/admin/categories/{trail}", headers=auth, params={"reassign_to": shoes})
    assert moved.status_code == 200, moved.text
    assert moved.json()["reassigned_products"] == 1
    assert client.delete(f"/admin/categories/{trail}", headers=auth).status_code == 404
    await worker.run(runner)
    assert names(client.get(f"/store/categories/shoes-{unique}")) == [f"Runner {unique}"]
    assert client.get(f"/store/categories/trail-{unique}").status_code == 404
    assert client.get(f"/store/products/runner-{unique}").json()["category_ids"] == [shoes]


async def test_a_collection_is_renamed_to_a_new_page_and_deleted(client, engine, unique) -> None:
    auth = {"Authorization": f"Bearer {await token_for(engine, Role.MERCHANDISER)}"}
    worker = Worker(engine)
    collection = client.post("/admin/collections", headers=auth, json={"name": f"Summer {unique}"}).json()["id"]
    taken = client.post("/admin/collections", headers=auth, json={"name": f"Taken {unique}"}).json()["id"]
    await worker.run(collection, taken)
    assert client.get(f"/store/collections/summer-{unique}").status_code == 200

    clash = client.patch(f"/admin/collections/{collection}", headers=auth,
                         json={"name": "Clash", "slug": f"taken-{unique}"})
    assert clash.status_code == 409, clash.text
    renamed = client.patch(f"/admin/collections/{collection}", headers=auth,
                           json={"name": f"Late summer {unique}", "slug": f"late-summer-{unique}"})
    assert renamed.status_code == 200, renamed.text
    purged = await worker.run(collection)
    assert f"collection-{collection}" in purged  # its pages, at the old slug and the new, carry its id's key
    assert client.get(f"/store/collections/summer-{unique}").status_code == 404
    assert client.get(f"/store/collections/late-summer-{unique}").json()["name"] == f"Late summer {unique}"

    assert client.delete(f"/admin/collections/{collection}", headers=auth).status_code == 204
    assert client.delete(f"/admin/collections/{collection}", headers=auth).status_code == 404
    assert client.patch("/admin/collections/nope", headers=auth, json={"name": "x"}).status_code == 404
    assert f"collection-{collection}" in await worker.run(collection)
    assert client.get(f"/store/collections/late-summer-{unique}").status_code == 404
    # its slug is free again
    again = client.post("/admin/collections", headers=auth, json={"name": f"Late summer {unique}"})
    assert again.status_code == 201, again.text
    await worker.run(again.json()["id"])
    assert client.get(f"/store/collections/late-summer-{unique}").status_code == 200
