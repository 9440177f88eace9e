"""The admin webhook API on the real app: owner only, validation as problem details, removal."""

from __future__ import annotations

import uuid

import pytest

from domain.staff.roles import Role
from tests.support.http_app import client_for, settings_for, token_for


@pytest.fixture(scope="module")
def client(database_url: str, redis_url: str):
    settings = settings_for(database_url, redis_url, redis_key_prefix=f"test:{uuid.uuid4().hex[:8]}:")
    with client_for(settings) as c:
        yield c


async def test_webhook_subscriptions_are_managed_by_the_owner_only(client, engine) -> None:
    owner = {"Authorization": f"Bearer {await token_for(engine, Role.OWNER)}"}
    merchandiser = {"Authorization": f"Bearer {await token_for(engine, Role.MERCHANDISER)}"}
    body = {"url": "https://hooks.example.com/emporium", "event_types": ["*"]}

    assert client.post("/admin/webhooks", json=body).status_code == 401
    assert client.get("/admin/webhooks", headers=merchandiser).status_code == 403

    created = client.post("/admin/webhooks", json=body, headers=owner)
    assert created.status_code == 201, created.text
    webhook = created.json()
    assert len(webhook["secret"]) >= 16  # generated, shown this once
    listed = client.get("/admin/webhooks", headers=owner).json()
    assert [w.get("secret") for w in listed if w["id"] == webhook["id"]] == [None]
    assert client.get(f"/admin/webhooks/{webhook['id']}/deliveries", headers=owner).json() == []

    assert client.delete(f"/admin/webhooks/{webhook['id']}", headers=owner).status_code == 204
    assert webhook["id"] not in [w["id"] for w in client.get("/admin/webhooks", headers=owner).json()]


@pytest.mark.parametrize(("body", "status", "slug"), [
    ({"url": "https://hooks.example.com/x", "event_types": ["orders.nope.v1"]}, 422, "invalid-subscription"),
    ({"url": "ftp://hooks.example.com/x", "event_types": ["*"]}, 422, "invalid-subscription"),
    ({"url": "https://127.0.0.1:5432/x", "event_types": ["*"]}, 422, "invalid-subscription"),  # no SSRF
    ({"url": "https://hooks.example.com/x", "event_types": ["*"], "secret": "short"}, 400, "validation-error"),
    ({"url": "https://hooks.example.com/x", "event_types": ["*"], "extra": 1}, 400, "validation-error"),
])
async def test_a_bad_subscription_is_a_problem(client, engine, body, status, slug) -> None:
    owner = {"Authorization": f"Bearer {await token_for(engine, Role.OWNER)}"}
    answer = client.post("/admin/webhooks", json=body, headers=owner)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["type"].endswith(slug)


async def test_unknown_webhooks_and_deliveries_are_404(client, engine) -> None:
    owner = {"Authorization": f"Bearer {await token_for(engine, Role.OWNER)}"}
    assert client.post("/admin/webhooks/deliveries/nope/replay", headers=owner).status_code == 404
    assert client.get("/admin/webhooks/nope/deliveries", headers=owner).status_code == 404
    assert client.delete("/admin/webhooks/nope", headers=owner).status_code == 404
