"""Audit row 10: security headers on every response, a CSP for the HTML pages, API docs without
third-party scripts, and ``/metrics`` behind a token."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.support.http_app import client_for, settings_for

METRICS_TOKEN = "metrics-" + "t" * 32


@pytest.fixture(scope="module")
def client(database_url: str, redis_url: str):
    settings = settings_for(database_url, redis_url, metrics_token=METRICS_TOKEN,
                            redis_key_prefix=f"test:{uuid.uuid4().hex[:8]}:")
    with client_for(settings) as c:
        yield c


@pytest.fixture(scope="module")
def https_client(database_url: str, redis_url: str):
    with client_for(settings_for(database_url, redis_url), "https://testserver.local") as c:
        yield c


def _every_kind_of_response(client) -> list:
    return [
        client.get("/health/live"),                                    # JSON
        client.get("/store/products/no-such-product"),                 # problem+json from a route
        client.get("/no/such/route"),                                   # the router's 404
        client.post("/store/cart/lines", content="x", headers={"Content-Type": "text/plain"}),
        client.get("/schema"),                                          # the HTML docs page
        client.get("/schema/openapi.json"),
    ]


def test_every_response_carries_the_security_headers(client) -> None:
    for response in _every_kind_of_response(client):
        where = f"{response.request.method} {response.request.url.path} ({response.status_code})"
        assert response.headers.get("x-content-type-options") == "nosniff", where
        assert response.headers.get("x-frame-options") == "DENY", where
        assert "frame-ancestors 'none'" in response.headers.get("content-security-policy", ""), where
        assert response.headers.get("referrer-policy") == "no-referrer", where
        assert "strict-transport-security" not in response.headers, f"plain HTTP gets no HSTS: {where}"


def test_https_responses_carry_hsts(https_client) -> None:
    for response in _every_kind_of_response(https_client):
        assert re.match(r"max-age=\d{7,}", response.headers.get("strict-transport-security", "")), response.headers


def test_the_docs_page_loads_no_third_party_script_and_has_a_strict_csp(client) -> None:
    for path in ("/schema", "/schema/swagger", "/schema/scalar", "/schema/redoc", "/schema/elements",
                 "/schema/rapidoc"):
        page = client.get(path)
        if page.status_code == 404:
            continue
        assert page.status_code == 200, path
        html = page.text
        assert not re.search(r"<(script|link)[^>]+(src|href)=[\"']?(https?:)?//", html), f"{path} loads from a CDN"
        assert "cdn." not in html, path
        csp = page.headers["content-security-policy"]
        assert "default-src 'none'" in csp
        assert "script-src" not in csp or "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";")[0]
    assert client.get("/schema").status_code == 200
    assert "/schema/openapi.json" in client.get("/schema").text
    assert client.get("/schema/openapi.json").json()["openapi"].startswith("3.")


def test_metrics_need_the_token(client) -> None:
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    scraped = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert scraped.status_code == 200
    assert "emporium_http_requests_total" in scraped.text


def test_metrics_without_a_configured_token_are_not_served_in_production(database_url, redis_url) -> None:
    settings = settings_for(database_url, redis_url, environment="production", secret_key="s" * 40)
    with client_for(settings) as production:
        assert production.get("/metrics").status_code in (401, 404)
