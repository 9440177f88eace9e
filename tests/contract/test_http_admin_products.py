"""POST /admin/products on the real stack: auth, validation as problem+json, nothing written on error."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.postgres import tables as t
from domain.staff.roles import Role
from tests.support.http_app import client_for, settings_for, token_for

# Channel price lists need channels that exist, and one list per channel and currency: this module's own.
TAG = uuid.uuid4().hex[:6]
APP_CHANNEL, OTHER_CHANNEL = f"app-{TAG}", f"c-{TAG}"


@pytest.fixture(scope="module")
def client(database_url: str, redis_url: str):
    channels = f"web:EUR:DE:incl:pay-later,us:USD:US-CA:excl,{APP_CHANNEL}:GBP:GB:incl,{OTHER_CHANNEL}:USD:US-CA:excl"
    with client_for(settings_for(database_url, redis_url, channels=channels)) as c:
        yield c


async def rows_for_sku(engine: AsyncEngine, sku: str) -> tuple[int, int]:
    async with engine.connect() as conn:
        products = await conn.scalar(
            select(func.count()).select_from(t.product_variants).where(t.product_variants.c.sku == sku)
        )
        events = await conn.scalar(
            select(func.count()).select_from(t.outbox).where(
                t.outbox.c.payload.contains({"product": {"variants": [{"sku": sku}]}})
            )
        )
    return int(products or 0), int(events or 0)


async def test_a_merchandiser_creates_a_product(client, engine, unique) -> None:
    token = await token_for(engine, Role.MERCHANDISER)
    response = client.post(
        "/admin/products",
        json={"name": f"Trail {unique}", "sku": f"T-{unique}", "price": 12900, "currency": "EUR"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201, response.text
    assert await rows_for_sku(engine, f"T-{unique}") == (1, 1)
    assert response.headers["x-request-id"]


@pytest.mark.parametrize(
    ("body_update", "status", "problem_type"),
    [
        ({"unexpected": 1}, 400, "validation-error"),
        ({"price": -5}, 400, "validation-error"),
        ({"price": 12.5}, 400, "validation-error"),
        ({"currency": "EURO"}, 400, "validation-error"),
        ({"currency": "XXX"}, 422, "invalid-currency"),
        ({"name": ""}, 400, "validation-error"),
    ],
)
async def test_bad_input_is_a_problem_and_writes_nothing(client, engine, unique, body_update, status, problem_type):
    token = await token_for(engine, Role.MERCHANDISER)
    body = {"name": f"Bad {unique}", "sku": f"B-{unique}", "price": 100, "currency": "EUR", **body_update}
    response = client.post("/admin/products", json=body, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"].endswith("/" + problem_type)
    assert problem["status"] == status
    assert await rows_for_sku(engine, f"B-{unique}") == (0, 0)


async def test_authentication_and_roles_are_enforced(client, engine, unique) -> None:
    body = {"name": f"Auth {unique}", "sku": f"A-{unique}", "price": 100, "currency": "EUR"}
    missing = client.post("/admin/products", json=body)
    assert missing.status_code == 401
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert missing.headers["www-authenticate"].startswith("Bearer")
    wrong = client.post("/admin/products", json=body, headers={"Authorization": "Bearer emp_not-a-token"})
    assert wrong.status_code == 401
    support = await token_for(engine, Role.SUPPORT)
    forbidden = client.post("/admin/products", json=body, headers={"Authorization": f"Bearer {support}"})
    assert forbidden.status_code == 403
    assert forbidden.json()["type"].endswith("/forbidden")
    owner = await token_for(engine, Role.OWNER)
    assert client.post("/admin/products", json=body, headers={"Authorization": f"Bearer {owner}"}).status_code == 201
    assert await rows_for_sku(engine, f"A-{unique}") == (1, 1)


async def test_duplicate_sku_is_a_conflict(client, engine, unique) -> None:
    token = await token_for(engine, Role.MERCHANDISER)
    headers = {"Authorization": f"Bearer {token}"}
    body = {"name": f"Dup {unique}", "sku": f"D-{unique}", "price": 100, "currency": "EUR"}
    assert client.post("/admin/products", json=body, headers=headers).status_code == 201
    again = client.post("/admin/products", json={**body, "name": f"Other {unique}"}, headers=headers)
    assert again.status_code == 409
    assert again.json()["type"].endswith("/duplicate-sku")
    assert await rows_for_sku(engine, f"D-{unique}") == (1, 1)


def test_health_reports_every_dependency(client) -> None:
    response = client.get("/health")
    assert response.status_code == 200, response.text
    body = response.json()
    assert [body[name]["ok"] for name in ("postgres", "redis", "broker")] == [True, True, True]
    assert isinstance(body["outbox_backlog"], int)
    assert client.get("/health/live").json() == {"status": "live"}


def test_openapi_document_and_viewer_are_served(client) -> None:
    spec = client.get("/schema/openapi.json")
    assert spec.status_code == 200
    assert "/admin/products" in spec.json()["paths"]
    viewer = client.get("/schema")  # server-rendered, no CDN scripts (tests/security/test_headers.py)
    assert viewer.status_code == 200
    assert "/admin/products" in viewer.text


def test_unknown_product_is_a_404_problem(client) -> None:
    response = client.get("/store/products/does-not-exist")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_a_full_product_is_built_through_the_admin_api(client, engine, unique) -> None:
    auth = {"Authorization": f"Bearer {await token_for(engine, Role.MERCHANDISER)}"}
    created = client.post("/admin/products", headers=auth, json={
        "name": f"Runner {unique}", "description": "Light and fast",
        "options": [{"name": "size", "values": ["40", "41"]}],
        "variants": [{"sku": f"RUN-40-{unique}", "option_values": {"size": "40"}, "weight_grams": 300}],
        "attributes": {"brand": "Emporium", "waterproof": False, "tags": ["trail", "road"]},
        "media": [{"url": "https://cdn.example/run.jpg", "alt": "The runner"}],
    })
    assert created.status_code == 201, created.text
    product_id = created.json()["id"]
    variant = client.post(f"/admin/products/{product_id}/variants", headers=auth,
                          json={"sku": f"RUN-41-{unique}", "option_values": {"size": "41"}})
    assert variant.status_code == 201, variant.text
    too_big = client.post(f"/admin/products/{product_id}/variants", headers=auth,
                          json={"sku": f"RUN-42-{unique}", "option_values": {"size": "42"}})
    assert too_big.status_code == 422  # 42 is not offered yet
    offered = client.post(f"/admin/products/{product_id}/options/size/values", headers=auth, json={"value": "42"})
    assert offered.status_code == 201, offered.text
    assert client.post(f"/admin/products/{product_id}/variants", headers=auth,
                       json={"sku": f"RUN-42-{unique}", "option_values": {"size": "42"}}).status_code == 201
    price_list = client.post("/admin/price-lists", headers=auth,
                             json={"name": f"App GBP {unique}", "currency": "GBP", "channel": APP_CHANNEL})
    assert price_list.status_code == 201, price_list.text
    prices = client.put(f"/admin/price-lists/{price_list.json()['id']}/prices", headers=auth, json={"prices": [
        {"sku": f"RUN-40-{unique}", "amount": 9900, "tiers": [{"min_quantity": 2, "amount": 9500}]},
    ]})
    assert prices.status_code == 200, prices.text
    activated = client.patch(f"/admin/products/{product_id}", headers=auth,
                             json={"status": "active", "expected_version": 4})
    assert activated.status_code == 200, activated.text
    assert activated.json()["version"] == 5
    weighed = client.patch(f"/admin/products/{product_id}/variants/RUN-41-{unique}", headers=auth,
                           json={"weight_grams": 320, "barcode": "4006381333931"})
    assert weighed.status_code == 200, weighed.text
    assert weighed.json()["version"] == 6
    missing = client.patch(f"/admin/products/{product_id}/variants/NOPE", headers=auth, json={"weight_grams": 1})
    assert missing.status_code == 404
    stale = client.patch(f"/admin/products/{product_id}", headers=auth, json={"name": "x", "expected_version": 2})
    assert stale.status_code == 409
    assert stale.json()["type"].endswith("/concurrency-conflict")


async def variant_rows(engine, prefix: str) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(
            select(func.count()).select_from(t.product_variants).where(t.product_variants.c.sku.startswith(prefix))
        ) or 0)


@pytest.mark.parametrize(
    ("body", "status", "slug"),
    [
        ({"options": [{"name": "size", "values": ["S"]}], "variants": [{"sku": "V1", "option_values": {}}]},
         422, "catalog-error"),
        ({"options": [{"name": "size", "values": ["S"]}],
          "variants": [{"sku": "V1", "option_values": {"size": "XXL"}}]}, 422, "catalog-error"),
        ({"variants": [{"sku": "V1"}, {"sku": "V1"}]}, 409, "duplicate-sku"),
        ({"sku": "V1", "price": 100, "currency": "EUR", "variants": [{"sku": "V2"}]}, 422, "catalog-error"),
        ({"sku": "V1", "price": 100}, 422, "catalog-error"),
        ({"variants": [{"sku": "V1", "price": 100}]}, 400, "validation-error"),
        ({"variants": [{"sku": "V1", "components": [{"sku": "MISSING", "quantity": 1}]}]}, 422, "catalog-error"),
    ],
    ids=["missing-option-value", "unknown-option-value", "duplicate-sku", "both-forms", "price-without-currency",
         "client-sent-price-on-variant", "bundle-of-nothing"],
)
async def test_bad_catalog_input_is_a_problem_and_writes_nothing(client, engine, unique, body, status, slug) -> None:
    auth = {"Authorization": f"Bearer {await token_for(engine, Role.MERCHANDISER)}"}
    prefix = f"X{unique}-"

    def rename(value):
        if isinstance(value, dict):
            return {k: (prefix + v if k == "sku" and v != "MISSING" else rename(v)) for k, v in value.items()}
        if isinstance(value, list):
            return [rename(v) for v in value]
        return value

    response = client.post("/admin/products", headers=auth, json={"name": f"Bad {unique}", **rename(body)})
    assert response.status_code == status, response.text
    assert response.json()["type"].endswith("/" + slug)
    assert await variant_rows(engine, prefix) == 0


async def test_prices_in_a_list_carry_no_currency_of_their_own(client, engine, unique) -> None:
    auth = {"Authorization": f"Bearer {await token_for(engine, Role.MERCHANDISER)}"}
    client.post("/admin/products", headers=auth,
                json={"name": f"Mono {unique}", "sku": f"MONO-{unique}", "price": 100, "currency": "EUR"})
    price_list = client.post("/admin/price-lists", headers=auth,
                             json={"name": "x", "currency": "USD", "channel": OTHER_CHANNEL}).json()["id"]
    mixed = client.put(f"/admin/price-lists/{price_list}/prices", headers=auth,
                       json={"prices": [{"sku": f"MONO-{unique}", "amount": 100, "currency": "EUR"}]})
    assert mixed.status_code == 400  # one list, one currency: a price cannot bring another
    negative = client.put(f"/admin/price-lists/{price_list}/prices", headers=auth,
                          json={"prices": [{"sku": f"MONO-{unique}", "amount": -1}]})
    assert negative.status_code == 400
    unknown = client.put(f"/admin/price-lists/{price_list}/prices", headers=auth,
                         json={"prices": [{"sku": f"NOPE-{unique}", "amount": 1}]})
    assert unknown.status_code == 404
