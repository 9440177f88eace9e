"""Shipping over HTTP on the real stack (PostgreSQL, Redis): the zones, methods and rates staff keep in
``/admin/shipping`` are what checkout offers and charges, at once after a change.

Observed before (on 030ed36): a USD cart to Germany passed the address step, was offered no shipping method
and could not check out. Every channel's currency now has a method in every seeded zone; a destination no
zone covers (Norway, taxable), or where no method takes the cart's currency, is refused at the address step.
Each test that adds a zone (Switzerland: taxable, in no seeded zone) removes it again."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from domain.staff.roles import Role
from tests.support.http_app import client_for, settings_for, stocked_products, token_for
from tests.support.storefront import BERLIN, Browser, checkout_to

ZURICH = {"name": "Ada Lovelace", "line1": "Bahnhofstrasse 1", "city": "Zürich", "postal_code": "8001",
          "country": "CH"}
OSLO = {"name": "Ada Lovelace", "line1": "Karl Johans gate 1", "city": "Oslo", "postal_code": "0154",
        "country": "NO"}
US = {"X-Channel": "us"}


@pytest.fixture(scope="module")
def client(database_url: str, redis_url: str) -> Iterator:
    settings = settings_for(database_url, redis_url, redis_key_prefix=f"test:{uuid.uuid4().hex[:8]}:",
                            channels="web:EUR:DE:incl:pay-later,us:USD:US-CA:excl:pay-later,uk:GBP:GB:incl")
    with client_for(settings, base_url="https://testserver.local") as c:  # the cookies are Secure
        yield c


@pytest.fixture(scope="module")
async def goods(client, engine) -> dict[str, str]:
    made = await stocked_products(client, engine, [("Lamp", 5000, "EUR", 100), ("Kettle", 5000, "USD", 100)])
    return {name: sku for name, (sku, _) in made.items()}


@pytest.fixture(scope="module")
async def merch(engine) -> dict[str, str]:
    return {"Authorization": f"Bearer {await token_for(engine, Role.MERCHANDISER)}"}


@pytest.fixture
def swiss_zone(client, merch, unique) -> Iterator[str]:
    """A zone for Switzerland with one EUR method (flat 15.00), removed with its methods afterwards."""
    zone_id = f"ch-{unique.lower()}"
    made = client.post("/admin/shipping/zones", headers=merch,
                       json={"id": zone_id, "name": "Switzerland", "countries": ["CH"]})
    assert made.status_code == 201, made.text
    method = client.post("/admin/shipping/methods", headers=merch, json={
        "id": f"{zone_id}-post", "name": "Post", "zone_id": zone_id, "currency": "EUR", "kind": "flat",
        "amount": 1500, "days": "2-3"})
    assert method.status_code == 201, method.text
    yield zone_id
    for m in client.get("/admin/shipping/methods", headers=merch, params={"zone_id": zone_id}).json():
        assert client.delete(f"/admin/shipping/methods/{m['id']}", headers=merch).status_code == 204
    assert client.delete(f"/admin/shipping/zones/{zone_id}", headers=merch).status_code == 204


def _address(shopper: Browser, checkout_id: str, address: dict):
    return shopper.request("PUT", f"/store/checkout/{checkout_id}/address", json={"shipping": address})


def _started(shopper: Browser, sku: str, headers: dict[str, str] | None = None) -> str:
    assert shopper.post("/store/cart/lines", json={"sku": sku, "quantity": 1},
                        headers=headers or {}).status_code == 201
    checkout_id = shopper.post("/store/checkout").json()["id"]
    assert shopper.request("PUT", f"/store/checkout/{checkout_id}/contact",
                           json={"email": shopper.email}).status_code == 200
    return checkout_id


def _slug(response) -> str:
    return response.json()["type"].rsplit("/", 1)[1]


def test_a_usd_cart_to_germany_is_offered_shipping_and_places_an_order(client, goods) -> None:
    shopper = Browser(client)
    shopper.post("/store/cart/lines", json={"sku": goods["Kettle"], "quantity": 1}, headers=US)
    checkout = checkout_to(shopper, BERLIN, "eu-usd-international", "manual")
    options = shopper.get(f"/store/checkout/{checkout['id']}/shipping-options").json()
    assert [(o["id"], o["amount"], o["currency"]) for o in options] == [("eu-usd-international", 1990, "USD")]
    assert checkout["currency"] == "USD"
    placed = shopper.post(f"/store/checkout/{checkout['id']}/place", headers={"Idempotency-Key": "usd-de-1"})
    assert placed.status_code == 201, placed.text
    order = shopper.get(f"/store/orders/{placed.json()['order_id']}").json()
    assert (order["currency"], order["shipping_address"]["country"]) == ("USD", "DE")


def test_a_country_no_zone_covers_is_refused_at_the_address_step(client, goods) -> None:
    shopper = Browser(client)
    checkout_id = _started(shopper, goods["Lamp"])
    refused = _address(shopper, checkout_id, OSLO)
    assert refused.status_code == 422, refused.text
    assert (_slug(refused), refused.json()["country"]) == ("unsupported-destination", "NO")
    assert shopper.get(f"/store/checkout/{checkout_id}").json()["shipping_address"] is None


def test_a_currency_no_method_takes_there_is_refused_at_the_address_step(client, goods, swiss_zone) -> None:
    shopper = Browser(client)
    checkout_id = _started(shopper, goods["Kettle"], US)
    refused = _address(shopper, checkout_id, ZURICH)
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert (_slug(refused), problem["country"], problem["currency"]) == ("no-shipping-method", "CH", "USD")
    assert "CH in USD" in problem["detail"]
    assert shopper.get(f"/store/checkout/{checkout_id}").json()["shipping_address"] is None

    in_euros = Browser(client)
    checkout_id = _started(in_euros, goods["Lamp"])
    assert _address(in_euros, checkout_id, ZURICH).status_code == 200


def test_a_rate_changed_through_the_admin_api_changes_the_next_checkouts_options_and_totals(
        client, goods, merch, swiss_zone) -> None:
    method_id = f"{swiss_zone}-post"
    before = Browser(client)
    before.post("/store/cart/lines", json={"sku": goods["Lamp"], "quantity": 1})
    paying = checkout_to(before, ZURICH, method_id, "manual")
    # €50.00 and €15.00 shipping, Swiss VAT (8.1 %) inside both (the web channel's prices include VAT).
    assert paying["totals"] == {"subtotal": 5000, "discount": 0, "shipping": 1500, "tax": 375 + 112, "total": 6500,
                                "prices_include_tax": True}

    changed = client.put(f"/admin/shipping/methods/{method_id}", headers=merch, json={
        "name": "Post", "zone_id": swiss_zone, "currency": "EUR", "kind": "weight",
        "bands": [{"up_to_grams": 2000, "amount": 900}, {"up_to_grams": 30000, "amount": 2900}], "free_over": 10000,
        "days": "2-3"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["bands"] == [{"up_to_grams": 2000, "amount": 900}, {"up_to_grams": 30000, "amount": 2900}]

    after = Browser(client)
    after.post("/store/cart/lines", json={"sku": goods["Lamp"], "quantity": 1})
    paying_after = checkout_to(after, ZURICH, method_id, "manual")
    options = after.get(f"/store/checkout/{paying_after['id']}/shipping-options").json()
    assert [(o["id"], o["amount"], o["currency"]) for o in options] == [(method_id, 900, "EUR")]  # a weightless lamp
    assert paying_after["totals"] == {"subtotal": 5000, "discount": 0, "shipping": 900, "tax": 375 + 67,
                                      "total": 5900, "prices_include_tax": True}
    two = Browser(client)
    two.post("/store/cart/lines", json={"sku": goods["Lamp"], "quantity": 2})
    assert checkout_to(two, ZURICH, method_id, "manual")["totals"]["shipping"] == 0  # free from €100.00

    # A payment started before the change keeps the rate it was started with.
    placed = before.post(f"/store/checkout/{paying['id']}/place", headers={"Idempotency-Key": f"ch-{swiss_zone}"})
    assert placed.status_code == 201, placed.text
    order = before.get(f"/store/orders/{placed.json()['order_id']}").json()
    assert (order["totals"]["shipping"], order["totals"]["total"]) == (1500, 6500)


FLAT = {"name": "Post", "currency": "EUR", "kind": "flat", "amount": 500}
BAD_METHODS = [  # (what is wrong, body changes, status, problem type, field)
    ("unknown currency", {"currency": "XYZ"}, 422, "invalid-shipping", "currency"),
    ("lower-case currency", {"currency": "eur"}, 422, "invalid-shipping", "currency"),
    ("negative amount", {"amount": -1}, 422, "invalid-shipping", "amount"),
    ("fractional amount", {"amount": 4.9}, 400, "validation-error", None),
    ("negative free_over", {"free_over": -100}, 422, "invalid-shipping", "free_over"),
    ("bands descending", {"kind": "weight", "amount": 0, "bands": [{"up_to_grams": 5000, "amount": 900},
                                                                    {"up_to_grams": 1000, "amount": 500}]},
     422, "invalid-shipping", "bands"),
    ("a band repeated", {"kind": "weight", "amount": 0, "bands": [{"up_to_grams": 1000, "amount": 900},
                                                                   {"up_to_grams": 1000, "amount": 500}]},
     422, "invalid-shipping", "bands"),
    ("a negative band amount", {"kind": "weight", "amount": 0, "bands": [{"up_to_grams": 1000, "amount": -5}]},
     422, "invalid-shipping", "bands"),
    ("weight without bands", {"kind": "weight", "amount": 0}, 422, "invalid-shipping", "bands"),
    ("a flat rate with bands", {"bands": [{"up_to_grams": 1000, "amount": 900}]}, 422, "invalid-shipping", "bands"),
    ("unknown kind", {"kind": "per-item"}, 400, "validation-error", None),
    ("a country outside the zone", {"countries": ["DE"]}, 422, "invalid-shipping", "countries"),
    ("not a country code", {"countries": ["XX"]}, 422, "invalid-shipping", "countries"),
    ("an unknown zone", {"zone_id": "nowhere"}, 422, "invalid-shipping", "zone_id"),
    ("a price smuggled in", {"price": 100}, 400, "validation-error", None),
    ("a bad id", {"id": "Has Spaces"}, 422, "invalid-shipping", "id"),
]
BAD_ZONES = [
    ("an alpha-3 code", {"countries": ["CHE"]}, 422, "invalid-shipping", "countries"),
    ("an unassigned code", {"countries": ["XK"]}, 422, "invalid-shipping", "countries"),
    ("no country", {"countries": []}, 422, "invalid-shipping", "countries"),
    ("a region of another country", {"regions": ["US-CA"]}, 422, "invalid-shipping", "regions"),
    ("not a US state", {"countries": ["US"], "regions": ["US-ZZ"]}, 422, "invalid-shipping", "regions"),
    ("a region without its country", {"regions": ["CH"]}, 422, "invalid-shipping", "regions"),
    ("a blank name", {"name": " "}, 422, "invalid-shipping", "name"),
]


def _table(client, merch) -> tuple[list, list]:
    return (client.get("/admin/shipping/zones", headers=merch).json(),
            client.get("/admin/shipping/methods", headers=merch).json())


@pytest.mark.parametrize(("what", "change", "status", "slug", "field"), BAD_METHODS, ids=[c[0] for c in BAD_METHODS])
def test_a_method_the_table_cannot_hold_is_refused_and_changes_nothing(client, merch, swiss_zone, what, change,
                                                                       status, slug, field) -> None:
    before = _table(client, merch)
    created = client.post("/admin/shipping/methods", headers=merch,
                          json={**FLAT, "id": f"{swiss_zone}-new", "zone_id": swiss_zone, **change})
    responses = [created]
    if "id" not in change:  # a body to update with names no id
        responses.append(client.put(f"/admin/shipping/methods/{swiss_zone}-post", headers=merch,
                                    json={**FLAT, "zone_id": swiss_zone, **change}))
    for response in responses:
        assert (response.status_code, _slug(response)) == (status, slug), response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        if field:
            assert response.json()["field"] == field
    assert _table(client, merch) == before


@pytest.mark.parametrize(("what", "change", "status", "slug", "field"), BAD_ZONES, ids=[c[0] for c in BAD_ZONES])
def test_a_zone_the_table_cannot_hold_is_refused_and_changes_nothing(client, merch, swiss_zone, what, change,
                                                                     status, slug, field) -> None:
    before = _table(client, merch)
    body = {"name": "Switzerland", "countries": ["CH"], **change}
    created = client.post("/admin/shipping/zones", headers=merch, json={**body, "id": f"{swiss_zone}-2"})
    updated = client.put(f"/admin/shipping/zones/{swiss_zone}", headers=merch, json=body)
    for response in (created, updated):
        assert (response.status_code, _slug(response), response.json()["field"]) == (status, slug, field), (
            response.text)
    assert _table(client, merch) == before


async def test_conflicts_and_unknown_ids_are_refused_and_change_nothing(client, merch, swiss_zone, engine) -> None:
    before = _table(client, merch)
    again = client.post("/admin/shipping/zones", headers=merch,
                        json={"id": swiss_zone, "name": "Again", "countries": ["LI"]})
    assert (again.status_code, _slug(again)) == (409, "shipping-zone-exists")
    twice = client.post("/admin/shipping/methods", headers=merch,
                        json={**FLAT, "id": f"{swiss_zone}-post", "zone_id": swiss_zone})
    assert (twice.status_code, _slug(twice)) == (409, "shipping-method-exists")
    in_use = client.delete(f"/admin/shipping/zones/{swiss_zone}", headers=merch)
    assert (in_use.status_code, _slug(in_use), in_use.json()["method_ids"]) == (
        409, "shipping-zone-in-use", [f"{swiss_zone}-post"])
    narrowed = client.put(f"/admin/shipping/zones/{swiss_zone}", headers=merch,
                          json={"name": "Liechtenstein", "countries": ["LI"]})
    assert narrowed.status_code == 200, narrowed.text  # its method is offered in the whole zone: it still fits
    assert client.put(f"/admin/shipping/zones/{swiss_zone}", headers=merch,
                      json={"name": "Switzerland", "countries": ["CH"]}).status_code == 200
    for method, url, body in (("PUT", "/admin/shipping/zones/nowhere", {"name": "N", "countries": ["CH"]}),
                              ("DELETE", "/admin/shipping/zones/nowhere", None),
                              ("PUT", "/admin/shipping/methods/nowhere", {**FLAT, "zone_id": swiss_zone}),
                              ("DELETE", "/admin/shipping/methods/nowhere", None)):
        missing = client.request(method, url, headers=merch, json=body)
        assert missing.status_code == 404, (url, missing.text)
    assert _table(client, merch) == before

    fulfilment = {"Authorization": f"Bearer {await token_for(engine, Role.FULFILMENT)}"}
    assert client.get("/admin/shipping/methods", headers=fulfilment).status_code == 200
    refused = client.put(f"/admin/shipping/methods/{swiss_zone}-post", headers=fulfilment,
                         json={**FLAT, "zone_id": swiss_zone, "amount": 0})
    assert refused.status_code == 403
    assert _table(client, merch) == before


def test_every_channel_currency_has_a_method_in_every_seeded_zone(client, merch) -> None:
    methods = client.get("/admin/shipping/methods", headers=merch).json()
    offered = {(m["zone_id"], m["currency"]) for m in methods}
    assert {(zone, currency) for zone in ("eu", "uk", "us") for currency in ("EUR", "USD", "GBP")} <= offered
    zones = {z["id"]: z for z in client.get("/admin/shipping/zones", headers=merch).json()}
    assert "PL" in zones["eu"]["countries"]
    assert not {"NO", "CH"} & {c for z in zones.values() for c in z["countries"]}
