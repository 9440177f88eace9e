"""The storefront cart and accounts over HTTP on the real stack (PostgreSQL + Redis)."""

from __future__ import annotations

import logging
import uuid

import pytest

from domain.carts.cart import MAX_LINE_QUANTITY
from domain.staff.roles import Role
from tests.support.http_app import client_for, set_stock_policy, settings_for, token_for
from tests.support.storefront import Browser

PASSWORD = "correct horse 42"


@pytest.fixture(scope="module")
def client(database_url: str, redis_url: str):
    # https: the cookies are Secure, and a client only sends those back over TLS.
    settings = settings_for(database_url, redis_url, redis_key_prefix=f"test:{uuid.uuid4().hex[:8]}:")
    with client_for(settings, base_url="https://testserver.local") as c:
        yield c


@pytest.fixture(scope="module")
async def catalog(client, engine, database_url) -> dict[str, str]:
    token = await token_for(engine, Role.MERCHANDISER)
    auth = {"Authorization": f"Bearer {token}"}
    tag = uuid.uuid4().hex[:6].upper()
    skus = {}
    for name, price in (("Runner", 12900), ("Socks", 900), ("Cap", 1900), ("Retired", 500)):
        sku = f"{name[:3].upper()}-{tag}"
        response = client.post("/admin/products", headers=auth, json={
            "name": f"{name} {tag}", "sku": sku, "price": price, "currency": "EUR", "status": "active",
        })
        assert response.status_code == 201, response.text
        await set_stock_policy(client, engine, sku, track_inventory=False)  # these tests are not about stock
        skus[name] = sku
        skus[f"{name}:id"] = response.json()["id"]
    archived = client.patch(f"/admin/products/{skus['Retired:id']}", headers=auth, json={"status": "archived"})
    assert archived.status_code == 200, archived.text
    return skus


def lines(response) -> dict[str, int]:
    return {line["sku"]: line["quantity"] for line in response.json()["lines"]}


def test_a_guest_builds_a_cart_with_a_signed_http_only_cookie(client, catalog) -> None:
    shopper = Browser(client)
    assert shopper.get("/store/cart").json()["lines"] == []
    added = shopper.post("/store/cart/lines", json={"sku": catalog["Runner"], "quantity": 2})
    assert added.status_code == 201, added.text
    cookies = added.headers.get_list("set-cookie")
    cart_cookie = next(c for c in cookies if c.startswith("emporium_cart="))
    assert all(flag in cart_cookie for flag in ("HttpOnly", "Secure", "SameSite=lax", "Path=/"))
    assert "HttpOnly" not in next(c for c in cookies if c.startswith("emporium_csrf="))
    body = added.json()
    assert (body["subtotal"], body["total"], body["currency"]) == (25800, 25800, "EUR")
    assert added.headers["cache-control"] == "private, no-store"
    assert lines(shopper.get("/store/cart")) == {catalog["Runner"]: 2}


def test_a_forged_or_foreign_cart_cookie_reaches_nothing(client, catalog) -> None:
    owner = Browser(client)
    owner.post("/store/cart/lines", json={"sku": catalog["Socks"], "quantity": 1})
    line_id = owner.get("/store/cart").json()["lines"][0]["id"]
    cart_value = owner.jar.get("emporium_cart")
    cart_id = cart_value.rpartition(".")[0]

    forger = Browser(client)
    forger.jar.set("emporium_cart", f"{cart_id}.not-the-signature", domain="testserver.local")
    assert forger.get("/store/cart").json()["lines"] == []  # the unsigned id is not a cart
    stranger = Browser(client)
    stranger.post("/store/cart/lines", json={"sku": catalog["Cap"], "quantity": 1})
    for response in (
        stranger.patch(f"/store/cart/lines/{line_id}", json={"quantity": 5}),
        stranger.delete(f"/store/cart/lines/{line_id}"),
    ):
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("application/problem+json")
    assert lines(owner.get("/store/cart")) == {catalog["Socks"]: 1}


@pytest.mark.parametrize("field", ["price", "unit_price", "total", "discount"])
def test_a_body_with_money_in_it_is_refused_and_changes_nothing(client, catalog, field) -> None:
    shopper = Browser(client)
    shopper.post("/store/cart/lines", json={"sku": catalog["Socks"], "quantity": 1})
    response = shopper.post("/store/cart/lines", json={"sku": catalog["Socks"], "quantity": 1, field: 1})
    assert response.status_code == 400
    assert response.json()["type"].endswith("/validation-error")
    assert lines(shopper.get("/store/cart")) == {catalog["Socks"]: 1}


@pytest.mark.parametrize(
    ("body", "status", "slug"),
    [
        ({"sku": "NO-SUCH-SKU", "quantity": 1}, 422, "unknown-sku"),
        ({"sku": "RUN", "quantity": 0}, 400, "validation-error"),
        ({"sku": "RUN", "quantity": MAX_LINE_QUANTITY + 1}, 422, "quantity-out-of-range"),
        ({"sku": "RET", "quantity": 1}, 422, "not-purchasable"),
    ],
)
def test_bad_lines_are_problems_and_leave_the_cart_as_it_was(client, catalog, body, status, slug) -> None:
    shopper = Browser(client)
    shopper.post("/store/cart/lines", json={"sku": catalog["Cap"], "quantity": 1})
    prefix = {"RUN": catalog["Runner"], "RET": catalog["Retired"]}
    body = {**body, "sku": prefix.get(body["sku"], body["sku"])}
    response = shopper.post("/store/cart/lines", json=body)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"].endswith("/" + slug)
    assert lines(shopper.get("/store/cart")) == {catalog["Cap"]: 1}


def test_an_unsafe_request_with_a_cart_cookie_needs_the_csrf_token(client, catalog) -> None:
    shopper = Browser(client)
    shopper.post("/store/cart/lines", json={"sku": catalog["Cap"], "quantity": 1})
    refused = shopper.post("/store/cart/lines", json={"sku": catalog["Cap"], "quantity": 1}, csrf=False)
    assert refused.status_code == 403
    assert refused.json()["type"].endswith("/csrf")
    wrong = shopper.post("/store/cart/lines", json={"sku": catalog["Cap"], "quantity": 1},
                         headers={"X-CSRF-Token": "guess"}, csrf=False)
    assert wrong.status_code == 403
    assert lines(shopper.get("/store/cart")) == {catalog["Cap"]: 1}


def test_guest_cart_merges_into_the_customer_cart_on_sign_in(client, catalog, unique, caplog) -> None:
    email = f"ada-{unique}@example.com"
    # On a laptop: register (signed in), put a cap and a pair of socks in the cart, sign out.
    laptop = Browser(client)
    registered = laptop.post("/store/customers", json={"email": email, "password": PASSWORD, "name": "Ada"})
    assert registered.status_code == 201, registered.text
    laptop.post("/store/cart/lines", json={"sku": catalog["Cap"], "quantity": 1})
    laptop.post("/store/cart/lines", json={"sku": catalog["Socks"], "quantity": 1})
    assert laptop.delete("/store/session").status_code == 204
    assert laptop.get("/store/customers/me").status_code == 401

    # On a phone, as a guest: socks and runners; then sign in.
    phone = Browser(client)
    phone.post("/store/cart/lines", json={"sku": catalog["Socks"], "quantity": 2})
    phone.post("/store/cart/lines", json={"sku": catalog["Runner"], "quantity": 1})
    guest_cookie = phone.jar.get("emporium_cart")
    with caplog.at_level(logging.DEBUG):
        signed_in = phone.post("/store/session", json={"email": email.upper(), "password": PASSWORD})
    assert signed_in.status_code == 200, signed_in.text
    assert PASSWORD not in caplog.text
    assert phone.jar.get("emporium_session") not in caplog.text
    merge = signed_in.json()["cart_merge"]
    assert (merge["added"], merge["combined"]) == ([catalog["Runner"]], [catalog["Socks"]])
    assert lines(phone.get("/store/cart")) == {catalog["Cap"]: 1, catalog["Socks"]: 3, catalog["Runner"]: 1}
    assert phone.jar.get("emporium_cart") is None  # the guest cookie is cleared…

    replay = Browser(client)  # …and even a copy of it reaches nothing any more
    replay.jar.set("emporium_cart", guest_cookie, domain="testserver.local")
    assert replay.get("/store/cart").json()["lines"] == []

    # Back on the laptop: the same cart follows the customer.
    assert laptop.post("/store/session", json={"email": email, "password": PASSWORD}).status_code == 200
    assert lines(laptop.get("/store/cart")) == {catalog["Cap"]: 1, catalog["Socks"]: 3, catalog["Runner"]: 1}
    assert laptop.get("/store/customers/me").json()["email"] == email


def test_sign_in_failures_are_limited_per_account_with_retry_after(client, unique) -> None:
    email = f"bob-{unique}@example.com"
    Browser(client).post("/store/customers", json={"email": email, "password": PASSWORD, "name": "Bob"})
    attacker = Browser(client)
    statuses = [
        attacker.post("/store/session", json={"email": email, "password": f"guess number {n}"}).status_code
        for n in range(6)
    ]
    assert statuses == [401] * 5 + [429]
    limited = attacker.post("/store/session", json={"email": email, "password": PASSWORD})
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) > 0


def test_address_book_names_the_bad_field(client, unique) -> None:
    customer = Browser(client)
    customer.post("/store/customers", json={"email": f"cy-{unique}@example.com", "password": PASSWORD, "name": "Cy"})
    bad = customer.post("/store/customers/me/addresses", json={
        "name": "Cy", "line1": "Hauptstr. 1", "city": "Berlin", "postal_code": "1", "country": "DE",
    })
    assert bad.status_code == 422
    assert bad.json()["errors"] == {"postal_code": "invalid"}
    good = customer.post("/store/customers/me/addresses", json={
        "name": "Cy", "line1": "Hauptstr. 1", "city": "Berlin", "postal_code": "10115", "country": "de",
    })
    assert good.status_code == 201, good.text
    assert good.json()["addresses"][0]["country"] == "DE"
