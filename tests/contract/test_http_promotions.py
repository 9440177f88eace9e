"""Promotions over HTTP on the real stack: a merchandiser drafts, previews, publishes; shoppers see it."""

from __future__ import annotations

import uuid

import pytest

from domain.staff.roles import Role
from tests.support.http_app import client_for, set_stock_policy, settings_for, token_for
from tests.support.storefront import Browser


@pytest.fixture(scope="module")
def client(database_url: str, redis_url: str):
    settings = settings_for(database_url, redis_url, redis_key_prefix=f"test:{uuid.uuid4().hex[:8]}:")
    with client_for(settings, base_url="https://testserver.local") as c:
        yield c


async def test_draft_preview_publish_and_a_coupon_in_the_cart(client, engine) -> None:
    auth = {"Authorization": f"Bearer {await token_for(engine, Role.MERCHANDISER)}"}
    tag = uuid.uuid4().hex[:6].upper()
    sku = f"SHOE-{tag}"
    assert client.post("/admin/products", headers=auth, json={
        "name": f"Shoe {tag}", "sku": sku, "price": 8000, "currency": "EUR", "status": "active"}).status_code == 201
    await set_stock_policy(client, engine, sku, track_inventory=False)  # for sale without counted stock

    before = client.get("/admin/promotions", headers=auth).json()
    bad = client.post("/admin/promotions", headers=auth, json={"name": "Broken", "rule": "when then"})
    assert bad.status_code == 422
    assert bad.json()["type"].endswith("/rule-parse-error")
    assert bad.json()["position"] == 5
    assert client.get("/admin/promotions", headers=auth).json() == before  # nothing saved

    created = client.post("/admin/promotions", headers=auth, json={
        "name": "€10 off over €50", "rule": "when subtotal >= 50.00 EUR and currency = EUR then 10.00 EUR off order",
        "limits": {"max_redemptions": 100, "budget": [{"amount": 100000, "currency": "EUR"}]},
    })
    assert created.status_code == 201, created.text
    promotion_id = created.json()["id"]
    preview = client.post(f"/admin/promotions/{promotion_id}/preview", headers=auth,
                          json={"lines": [{"sku": sku, "quantity": 1}], "currency": "EUR"})
    assert preview.status_code == 200, preview.text
    assert (preview.json()["discount"], preview.json()["trace"][0]["applied"]) == (1000, True)
    codes = client.post(f"/admin/promotions/{promotion_id}/coupons", headers=auth,
                        json={"generate": 3, "prefix": "TEN", "usage_limit": 1})
    assert codes.status_code == 201
    assert len(codes.json()["codes"]) == 3

    shopper = Browser(client)
    shopper.post("/store/cart/lines", json={"sku": sku, "quantity": 1})
    refused = shopper.post("/store/cart/coupons", json={"code": codes.json()["codes"][0]})
    assert refused.status_code == 422  # a draft's coupons are not live yet
    assert client.post(f"/admin/promotions/{promotion_id}/publish", headers=auth).status_code == 200
    applied = shopper.post("/store/cart/coupons", json={"code": codes.json()["codes"][0]})
    assert applied.status_code == 200, applied.text
    body = applied.json()
    assert (body["subtotal"], body["discount"], body["total"]) == (8000, 1000, 7000)
    assert body["lines"][0]["adjustments"][0]["promotion_id"] == promotion_id
    money = shopper.post("/store/cart/coupons", json={"code": "X", "discount": 5000})
    assert money.status_code == 400  # a client never sends a discount
    versions = client.get(f"/admin/promotions/{promotion_id}", headers=auth).json()["versions"]
    assert [v["published_at"] is not None for v in versions] == [True]
    assert client.get("/admin/promotions", headers={"Authorization": "Bearer nope"}).status_code == 401
