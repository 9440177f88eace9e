"""Product types over HTTP on the real stack: a typed product refuses values its type does not accept (the
observed ``"heavy"``/``"yes"`` PATCH) as a 422 naming each attribute, changing nothing; types are created, read,
listed, changed and deleted through /admin/product-types, and the storefront document shows labels and units."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.postgres import tables as t
from domain.staff.roles import Role
from tests.support.http_app import client_for, settings_for, token_for

WEIGHT = {"code": "weight_kg", "label": "Weight", "kind": "number", "unit": "kg", "required": True,
          "filterable": True}
WATERPROOF = {"code": "waterproof", "label": "Waterproof", "kind": "boolean", "filterable": True, "facetable": True}
SEASON = {"code": "season", "label": "Season", "kind": "enum", "allowed_values": ["summer", "winter"],
          "filterable": True, "facetable": True}


@pytest.fixture(scope="module")
def client(database_url: str, redis_url: str):
    with client_for(settings_for(database_url, redis_url)) as c:
        yield c


async def stored(engine: AsyncEngine, product_id: str) -> tuple[int, dict, int]:
    """The product's version and attributes as stored, and how many outbox rows it has."""
    async with engine.connect() as conn:
        row = (await conn.execute(select(t.products.c.version, t.products.c.attributes)
                                  .where(t.products.c.id == product_id))).one()
        events = await conn.scalar(select(func.count()).select_from(t.outbox)
                                   .where(t.outbox.c.aggregate_id == product_id))
    return row.version, row.attributes, int(events or 0)


async def rain_jacket(client, auth, unique: str) -> tuple[str, str]:
    created = client.post("/admin/product-types", headers=auth, json={
        "code": f"rain-jacket-{unique}", "name": "Rain jacket", "attributes": [WEIGHT, WATERPROOF, SEASON]})
    assert created.status_code == 201, created.text
    type_id = created.json()["id"]
    product = client.post("/admin/products", headers=auth, json={
        "name": f"Storm {unique}", "sku": f"STORM-{unique}", "price": 9900, "currency": "EUR",
        "product_type_id": type_id, "attributes": {"weight_kg": 0.85, "waterproof": True, "season": "winter"}})
    assert product.status_code == 201, product.text
    return type_id, product.json()["id"]


async def test_the_observed_patch_of_heavy_and_yes_is_refused_and_changes_nothing(client, engine, unique) -> None:
    auth = {"Authorization": f"Bearer {await token_for(engine, Role.MERCHANDISER)}"}
    _, product_id = await rain_jacket(client, auth, unique)
    before = await stored(engine, product_id)
    response = client.patch(f"/admin/products/{product_id}", headers=auth, json={
        "name": "Renamed", "attributes": {"weight_kg": "heavy", "waterproof": "yes", "season": "winter"}})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"].endswith("/invalid-attributes")
    assert problem["errors"] == {"weight_kg": "expects a number (in kg), not the text 'heavy'",
                                 "waterproof": "expects true or false, not the text 'yes'"}
    assert await stored(engine, product_id) == before
    assert before[1] == {"weight_kg": 0.85, "waterproof": True, "season": "winter"}


async def test_a_typed_product_is_checked_on_create_and_an_untyped_one_keeps_working(client, engine, unique) -> None:
    auth = {"Authorization": f"Bearer {await token_for(engine, Role.MERCHANDISER)}"}
    type_id, _ = await rain_jacket(client, auth, unique)
    refused = client.post("/admin/products", headers=auth, json={
        "name": f"Bad {unique}", "sku": f"BAD-{unique}", "product_type_id": type_id,
        "attributes": {"season": "autumn", "brand": "acme"}})
    assert refused.status_code == 422, refused.text
    assert set(refused.json()["errors"]) == {"weight_kg", "season", "brand"}
    missing = client.post("/admin/products", headers=auth, json={
        "name": f"Lost {unique}", "sku": f"LOST-{unique}", "product_type_id": "no-such-type"})
    assert missing.status_code == 404
    assert missing.json()["type"].endswith("/product-type-not-found")
    async with engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(t.product_variants).where(
            t.product_variants.c.sku.in_([f"BAD-{unique}", f"LOST-{unique}"]))) == 0
    old = client.post("/admin/products", headers=auth, json={
        "name": f"Old {unique}", "sku": f"OLD-{unique}", "attributes": {"weight_kg": 0.85}}).json()["id"]
    assert client.patch(f"/admin/products/{old}", headers=auth,
                        json={"attributes": {"weight_kg": "heavy"}}).status_code == 200  # untyped: as before
    typed = client.patch(f"/admin/products/{old}", headers=auth,
                         json={"product_type_id": type_id, "attributes": {"weight_kg": 1.2}})
    assert typed.status_code == 200, typed.text
    untyped = client.patch(f"/admin/products/{old}", headers=auth, json={"product_type_id": None})
    assert untyped.status_code == 200, untyped.text


async def test_product_types_are_managed_through_the_admin_api(client, engine, unique) -> None:
    auth = {"Authorization": f"Bearer {await token_for(engine, Role.MERCHANDISER)}"}
    type_id, product_id = await rain_jacket(client, auth, unique)
    got = client.get(f"/admin/product-types/{type_id}", headers=auth)
    assert got.status_code == 200, got.text
    assert (got.json()["version"], got.json()["products"]) == (1, 1)
    assert got.json()["attributes"][0] == {**WEIGHT, "allowed_values": [], "multiple": False, "facetable": False}
    assert type_id in [t["id"] for t in client.get("/admin/product-types", headers=auth).json()]
    again = client.post("/admin/product-types", headers=auth, json={"code": f"rain-jacket-{unique}", "name": "x"})
    assert again.status_code == 409
    assert again.json()["type"].endswith("/product-type-code-taken")
    bad_kind = client.post("/admin/product-types", headers=auth, json={
        "code": f"x-{unique}", "name": "x", "attributes": [{**WEIGHT, "kind": "colour"}]})
    assert bad_kind.status_code == 400

    autumn = {**SEASON, "allowed_values": ["summer", "winter", "autumn"]}
    grown = client.patch(f"/admin/product-types/{type_id}", headers=auth,
                         json={"attributes": [WEIGHT, WATERPROOF, autumn], "expected_version": 1})
    assert grown.status_code == 200, grown.text
    assert grown.json()["version"] == 2
    no_winter = client.patch(f"/admin/product-types/{type_id}", headers=auth,
                             json={"attributes": [WEIGHT, WATERPROOF, {**SEASON, "allowed_values": ["summer"]}]})
    assert no_winter.status_code == 409, no_winter.text
    assert no_winter.json()["type"].endswith("/product-type-in-use")
    assert no_winter.json()["errors"] == {"season": "values still used by products of this type: winter"}
    in_use = client.delete(f"/admin/product-types/{type_id}", headers=auth)
    assert in_use.status_code == 409
    assert in_use.json()["errors"] == {"product_type": "1 products use it"}
    assert client.get(f"/admin/product-types/{type_id}", headers=auth).json()["version"] == 2

    assert client.patch(f"/admin/products/{product_id}", headers=auth,
                        json={"product_type_id": None}).status_code == 200
    assert client.delete(f"/admin/product-types/{type_id}", headers=auth).status_code == 204
    assert client.get(f"/admin/product-types/{type_id}", headers=auth).status_code == 404


async def test_only_merchandisers_and_the_owner_manage_types(client, engine, unique) -> None:
    support = {"Authorization": f"Bearer {await token_for(engine, Role.SUPPORT)}"}
    assert client.get("/admin/product-types", headers=support).status_code == 403
    assert client.post("/admin/product-types", headers=support,
                       json={"code": f"s-{unique}", "name": "S"}).status_code == 403
    assert client.get("/admin/product-types").status_code == 401


async def test_the_storefront_document_shows_the_attributes_with_labels_and_units(client, engine, unique) -> None:
    from adapters.postgres.unit_of_work import PostgresUnitOfWork
    from adapters.system.clock import UuidIdGenerator
    from application.catalog.projection import project_product

    auth = {"Authorization": f"Bearer {await token_for(engine, Role.MERCHANDISER)}"}
    _, product_id = await rain_jacket(client, auth, unique)
    async with PostgresUnitOfWork(engine, UuidIdGenerator()) as tx:
        await project_product(product_id, tx)
        await tx.commit()
    page = client.get(f"/store/products/storm-{unique}")
    assert page.status_code == 200, page.text
    document = page.json()
    assert document["product_type"]["code"] == f"rain-jacket-{unique}"
    assert document["attribute_details"][0] == {"code": "weight_kg", "label": "Weight", "kind": "number",
                                                "value": 0.85, "unit": "kg", "filterable": True, "facetable": False}
    assert document["attributes"] == {"weight_kg": 0.85, "waterproof": True, "season": "winter"}
