"""Audit row 9: settings default to production, the development secret never signs in production,
keys rotate, and only a configured proxy may say who the client is (``X-Forwarded-For``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from entrypoints.http.app import create_app
from entrypoints.http.store.identity import CART_COOKIE, csrf_token, sign
from entrypoints.settings import DEVELOPMENT_SECRET, Settings, SettingsError, from_environ, refuse_insecure
from tests.support.http_app import client_for, make_container, settings_for, stocked_products
from tests.support.network import free_port
from tests.support.processes import emporium, service_env
from tests.support.uvicorn_server import served_as_serve_does

STRONG = "k" * 40


def test_settings_default_to_production() -> None:
    assert from_environ({}).environment == "production"
    assert from_environ({"EMPORIUM_ENVIRONMENT": "development"}).environment == "development"
    with pytest.raises(SettingsError):
        from_environ({"EMPORIUM_ENVIRONMENT": "prod"})


def test_the_app_refuses_to_start_in_production_with_the_development_secret(database_url, redis_url) -> None:
    for secret in (DEVELOPMENT_SECRET, "short"):
        settings = settings_for(database_url, redis_url, environment="production", secret_key=secret)
        with pytest.raises(SettingsError, match="EMPORIUM_SECRET_KEY"):
            create_app(make_container(settings), configure_logs=False)
    old_dev = settings_for(database_url, redis_url, environment="production", secret_key=STRONG,
                           old_secret_keys=DEVELOPMENT_SECRET)
    with pytest.raises(SettingsError, match="EMPORIUM_OLD_SECRET_KEYS"):
        refuse_insecure(old_dev)
    refuse_insecure(settings_for(database_url, redis_url, environment="production", secret_key=STRONG))
    refuse_insecure(settings_for(database_url, redis_url, environment="development", secret_key=DEVELOPMENT_SECRET))


@pytest.mark.parametrize("exemption", [{"webhook_allow_http": True}, {"webhook_allowed_hosts": "127.0.0.1:8765"}])
def test_the_webhook_test_exemptions_are_refused_in_production(database_url, redis_url, exemption) -> None:
    settings = settings_for(database_url, redis_url, environment="production", secret_key=STRONG, **exemption)
    with pytest.raises(SettingsError, match="never production"):
        refuse_insecure(settings)
    refuse_insecure(settings_for(database_url, redis_url, environment="development", **exemption))


@pytest.mark.slow
def test_emporium_serve_refuses_the_development_secret_in_production(database_url, redis_url) -> None:
    env = service_env(database_url, redis_url, "cli", EMPORIUM_ENVIRONMENT="production", EMPORIUM_SECRET_KEY="",
                      EMPORIUM_PORT=str(free_port()))
    result = emporium(env, "serve")
    assert result.returncode == 1
    assert "EMPORIUM_SECRET_KEY" in result.stderr
    assert "Uvicorn running" not in result.stderr


HTTPS = "https://testserver.local"  # the cart cookies are Secure


def _cart_skus(client, cookie: str) -> list[str]:
    client.cookies.clear()
    client.cookies.set(CART_COOKIE, cookie)
    response = client.get("/store/cart")
    assert response.status_code == 200, response.text
    return [line["sku"] for line in response.json()["lines"]]


async def test_a_cookie_signed_with_a_retired_key_still_verifies_and_new_cookies_use_the_first_key(
    database_url, redis_url, engine,
) -> None:
    old, new = "o" * 40, "n" * 40
    with client_for(settings_for(database_url, redis_url, secret_key=old), HTTPS) as client:
        sku = (await stocked_products(client, engine, [("Rotor", 1000, "EUR", 5)]))["Rotor"][0]
        added = client.post("/store/cart/lines", json={"sku": sku, "quantity": 1})
        assert added.status_code == 201, added.text
        signed_with_old = client.cookies[CART_COOKIE]
    rotated = settings_for(database_url, redis_url, secret_key=new, old_secret_keys=f"{'p' * 40},{old}")
    with client_for(rotated, HTTPS) as client:
        assert _cart_skus(client, signed_with_old) == [sku], "the retired key still verifies the cart cookie"
        again = client.post("/store/cart/lines", json={"sku": sku, "quantity": 1},
                            headers={"X-CSRF-Token": csrf_token(old, signed_with_old)})
        assert again.status_code == 201, "and the CSRF token made with it"
        forged = sign("someone-elses-key-" + "x" * 30, signed_with_old.rpartition(".")[0])
        assert _cart_skus(client, forged) == [], "a cookie no configured key signed is no cart"
        client.cookies.clear()
        minted = client.post("/store/cart/lines", json={"sku": sku, "quantity": 1})
        assert minted.status_code == 201, minted.text
        fresh = client.cookies[CART_COOKIE]
    assert sign(new, fresh.rpartition(".")[0]) == fresh, "new cookies are signed with the first key"


@contextmanager
def _served(settings: Settings) -> Iterator[str]:
    """A one-route ASGI app that echoes the client address uvicorn gives it, served with our options."""

    async def echo(scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        host = (scope.get("client") or ("?", 0))[0]
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": f"{host} {scope['scheme']}".encode()})

    with served_as_serve_does(echo, settings) as port:
        yield f"http://127.0.0.1:{port}"


def _seen(base: str) -> str:
    return httpx.get(base, headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}).text


def test_x_forwarded_for_counts_only_from_a_configured_trusted_proxy() -> None:
    with _served(from_environ({})) as base:
        assert _seen(base) == "127.0.0.1 http", "no trusted proxy: the header is the client's word, ignored"
    with _served(from_environ({"EMPORIUM_TRUSTED_PROXIES": "10.0.0.0/8"})) as base:
        assert _seen(base) == "127.0.0.1 http", "loopback is not a listed proxy"
    with _served(from_environ({"EMPORIUM_TRUSTED_PROXIES": "127.0.0.1"})) as base:
        assert _seen(base) == "203.0.113.9 https"
