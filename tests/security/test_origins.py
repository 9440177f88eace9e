"""Audit row 6: login CSRF and friends. Unsafe JSON endpoints take only ``application/json``; an unsafe
``/store`` request a browser sends from a foreign origin is refused, sign-in and sign-up included;
an allowed-origins setting opens the storefront API (CORS with credentials) to the listed origins only.

The rule, for unsafe ``/store`` requests: a present ``Origin`` must be the API's own (its ``Host``)
or a listed origin; without ``Origin``, a ``Sec-Fetch-Site`` other than ``same-origin`` or ``none``
is refused. A request with neither header is no browser's (server-to-server, curl) and passes:
browsers send ``Origin`` on every cross-origin unsafe request, so that gap is not a CSRF hole.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest

from tests.support.http_app import client_for, settings_for

BASE = "https://testserver.local"
SHOP = "https://shop.example.com"
EVIL = "https://evil.example.net"


@pytest.fixture(scope="module")
def client(database_url: str, redis_url: str):
    with client_for(settings_for(database_url, redis_url, redis_key_prefix=f"test:{uuid.uuid4().hex[:8]}:"), BASE) as c:
        yield c


@pytest.fixture(scope="module")
def headless(database_url: str, redis_url: str):
    settings = settings_for(database_url, redis_url, allowed_origins=SHOP,
                            redis_key_prefix=f"test:{uuid.uuid4().hex[:8]}:")
    with client_for(settings, BASE) as c:
        yield c


def _account() -> dict[str, str]:
    return {"email": f"csrf-{uuid.uuid4().hex[:10]}@example.com", "password": "correct horse 42", "name": "Ada"}


def _register(client, **headers: str):
    client.cookies.clear()
    return client.post("/store/customers", json=_account(), headers=headers)


def test_sign_in_with_a_form_content_type_from_a_foreign_origin_signs_nobody_in(client) -> None:
    account = _account()
    client.cookies.clear()
    assert client.post("/store/customers", json=account).status_code == 201
    client.cookies.clear()
    body = f'{{"email": "{account["email"]}", "password": "{account["password"]}"}}'
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
        forged = client.post("/store/session", content=body,
                             headers={"Content-Type": content_type, "Origin": EVIL})
        assert forged.status_code in (403, 415), forged.text
        assert "set-cookie" not in forged.headers
        same_origin = client.post("/store/session", content=body, headers={"Content-Type": content_type})
        assert same_origin.status_code == 415, same_origin.text
        assert same_origin.headers["content-type"].startswith("application/problem+json")
        assert "set-cookie" not in same_origin.headers


def test_a_foreign_origin_cannot_sign_up_or_sign_in_even_with_json(client) -> None:
    refused = _register(client, Origin=EVIL)
    assert refused.status_code == 403, refused.text
    assert refused.json()["type"].endswith("/cross-origin")
    assert "set-cookie" not in refused.headers
    assert _register(client, Origin="null").status_code == 403
    assert _register(client, **{"Sec-Fetch-Site": "cross-site"}).status_code == 403
    assert _register(client, **{"Sec-Fetch-Site": "same-site"}).status_code == 403
    client.cookies.clear()
    assert client.post("/store/session", json={"email": "a@example.com", "password": "x"},
                       headers={"Origin": EVIL}).status_code == 403


def test_same_origin_browsers_and_clients_without_browser_headers_still_work(client) -> None:
    assert _register(client, Origin=BASE).status_code == 201
    assert _register(client, Origin=BASE, **{"Sec-Fetch-Site": "same-origin"}).status_code == 201
    assert _register(client, **{"Sec-Fetch-Site": "none"}).status_code == 201
    assert _register(client).status_code == 201, "server-to-server and curl send neither header"


def test_unsafe_admin_json_endpoints_refuse_other_content_types(client) -> None:
    response = client.post("/admin/products", content='{"name": "x"}', headers={
        "Content-Type": "text/plain", "Authorization": "Bearer emp_nobody"})
    assert response.status_code in (401, 415)
    client.cookies.clear()
    refused = client.post("/store/cart/lines", content='{"sku": "X", "quantity": 1}',
                          headers={"Content-Type": "text/plain"})
    assert refused.status_code == 415
    assert refused.json()["type"].endswith("/unsupported-media-type")
    charset = client.post("/store/password-resets", content=b'{"email": "nobody@example.com"}',
                          headers={"Content-Type": "application/json; charset=utf-8"})
    assert charset.status_code == 202


def test_tracking_beacons_may_send_their_json_as_text_plain_and_nothing_else_may(client) -> None:
    client.cookies.clear()
    batch = json.dumps({"anonymous_id": f"anon-{uuid.uuid4().hex[:10]}", "events": [
        {"type": "page_viewed", "id": uuid.uuid4().hex, "occurred_at": datetime.now(UTC).isoformat(), "path": "/"}]})
    beacon = client.post("/store/events", content=batch, headers={"Content-Type": "text/plain;charset=UTF-8"})
    assert beacon.status_code == 202, beacon.text
    form = client.post("/store/events", content=batch, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert form.status_code == 415


def test_a_listed_origin_gets_credentialed_cors_and_cross_site_cookies(headless) -> None:
    preflight = headless.options("/store/customers", headers={
        "Origin": SHOP, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type, x-csrf-token",
    })
    assert preflight.status_code in (200, 204)
    assert preflight.headers["access-control-allow-origin"] == SHOP
    assert preflight.headers["access-control-allow-credentials"] == "true"
    registered = _register(headless, Origin=SHOP)
    assert registered.status_code == 201, registered.text
    assert registered.headers["access-control-allow-origin"] == SHOP
    cookies = registered.headers.get_list("set-cookie")
    assert cookies
    assert all("samesite=none" in c.lower() and "secure" in c.lower() for c in cookies)
    # A storefront on another origin cannot read our cookies: the CSRF token comes in a header it may read.
    assert registered.headers["x-csrf-token"]
    assert "x-csrf-token" in registered.headers["access-control-expose-headers"].lower()


def test_an_unlisted_origin_gets_no_cors_and_no_writes(headless) -> None:
    preflight = headless.options("/store/customers", headers={
        "Origin": EVIL, "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in preflight.headers
    assert _register(headless, Origin=EVIL).status_code == 403
    read = headless.get("/store/cart", headers={"Origin": EVIL})
    assert "access-control-allow-origin" not in read.headers


def test_without_a_listed_origin_cookies_stay_same_site_lax(client) -> None:
    registered = _register(client)
    assert registered.status_code == 201
    assert all("samesite=lax" in c.lower() for c in registered.headers.get_list("set-cookie"))
    assert "access-control-allow-origin" not in _register(client, Origin=BASE).headers
