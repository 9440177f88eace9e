"""Audit row 8: NUL and the other C0 control characters never reach the database as a 500.

One rule at the edge (``entrypoints/http/decoding.py``): a JSON body's strings and keys, the path and the
query refuse C0 characters with a 400 problem naming the field; tab, CR and LF are allowed only in
fields declared multi-line (descriptions, promotion rules, staff notes).
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from adapters.postgres.tables.catalog import products
from domain.staff.roles import Role
from tests.support.http_app import client_for, settings_for, token_for


@pytest.fixture(scope="module")
def client(database_url: str, redis_url: str):
    with client_for(settings_for(database_url, redis_url, redis_key_prefix=f"test:{uuid.uuid4().hex[:8]}:")) as c:
        yield c


@pytest.fixture(scope="module")
async def merch(engine) -> dict[str, str]:
    return {"Authorization": f"Bearer {await token_for(engine, Role.MERCHANDISER)}"}


def _refused(response, field: str) -> None:
    assert response.status_code == 400, response.text
    problem = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert problem["type"].endswith("/validation-error")
    assert field in problem["detail"]
    assert any(error.get("key") == field for error in problem["errors"]), problem


@pytest.mark.parametrize("path", [
    "/store/products/a%00b", "/store/products/a%0Ab", "/store/categories/x%1Fy", "/admin/orders/a%00b",
])
def test_a_control_character_in_the_path_is_a_400_not_a_500(client, path) -> None:
    response = client.get(path)
    assert response.status_code in (400, 404), response.text
    assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("query", ["skus=A%00B", "q=shoe%00", "q=shoe%0d%0a"])
def test_a_control_character_in_the_query_names_the_parameter(client, query) -> None:
    path = "/store/availability" if query.startswith("skus") else "/store/search"
    response = client.get(f"{path}?{query}")
    _refused(response, query.partition("=")[0])


@pytest.mark.parametrize(("url", "body", "field"), [
    ("/store/customers", {"email": "nul@example.com", "password": "correct horse 42", "name": "A\x00da"}, "name"),
    ("/store/customers", {"email": "nul\x00@example.com", "password": "correct horse 42", "name": "Ada"}, "email"),
    ("/store/customers", {"email": "crlf@example.com", "password": "correct horse 42", "name": "Ada\r\nBcc: x"},
     "name"),
    ("/store/session", {"email": "nul\x00@example.com", "password": "x"}, "email"),
    ("/store/session", {"email": "ada@example.com", "password": "pass\x00word"}, "password"),
    ("/store/password-resets", {"email": "nul\x00@example.com"}, "email"),
    ("/store/password-resets/confirm", {"token": "0123456789\x00", "password": "correct horse 42"}, "token"),
    ("/store/cart/lines", {"sku": "A\x00B", "quantity": 1}, "sku"),
])
def test_storefront_bodies_refuse_control_characters_naming_the_field(client, url, body, field) -> None:
    client.cookies.clear()
    _refused(client.post(url, json=body), field)


async def test_admin_bodies_refuse_control_characters_nested_ones_too(client, merch, unique) -> None:
    _refused(client.post("/admin/products", headers=merch, json={
        "name": f"Bad\x00{unique}", "sku": f"NUL-{unique}", "price": 100, "currency": "EUR"}), "name")
    _refused(client.post("/admin/products", headers=merch, json={
        "name": f"Bad {unique}", "sku": f"NUL-{unique}", "price": 100, "currency": "EUR",
        "attributes": {"colour": "red\nblue"}}), "attributes.colour")
    _refused(client.post("/admin/categories", headers=merch, json={"name": f"Cat\x01{unique}"}), "name")
    _refused(client.post("/admin/search/synonyms", headers=merch, json={"terms": ["a", "b\x00"]}), "terms[1]")
    _refused(client.post("/admin/promotions", headers=merch, json={
        "name": f"P\n{unique}", "rule": "when subtotal >= 50.00 EUR then 10.00 EUR off order"}), "name")
    _refused(client.post("/admin/promotions", headers=merch, json={
        "name": f"P {unique}", "rule": "when subtotal >= 50.00 EUR\x00 then 10.00 EUR off order"}), "rule")


async def test_multi_line_text_keeps_its_newlines_and_tabs(client, merch, engine, unique) -> None:
    description = "Line one\nLine two\r\n\tindented"
    created = client.post("/admin/products", headers=merch, json={
        "name": f"Multi {unique}", "sku": f"ML-{unique}", "price": 100, "currency": "EUR",
        "description": description})
    assert created.status_code == 201, created.text
    async with engine.connect() as conn:
        stored = await conn.scalar(select(products.c.description).where(products.c.id == created.json()["id"]))
    assert stored == description
    promotion = client.post("/admin/promotions", headers=merch, json={
        "name": f"Multi {unique}", "rule": "when subtotal >= 50.00 EUR and currency = EUR\nthen 10.00 EUR off order"})
    assert promotion.status_code == 201, promotion.text


def test_a_key_with_a_control_character_is_refused(client) -> None:
    client.cookies.clear()
    response = client.post("/store/cart/lines", json={"sku": "A", "quantity": 1, "x\x00": 1})
    assert response.status_code == 400
