"""Tax over HTTP on the real stack (PostgreSQL, Redis): every EU member state checks out with its VAT
rate per tax class, Poland places an order (it was offered shipping, then refused at payment with
``unsupported-destination``), a euro order to California pays California's sales tax on top of the price
without German VAT (it was counted as included in the euro price), a state we cannot tax is refused at
the address step, and products carry their tax class."""

from __future__ import annotations

import uuid
from fractions import Fraction

import pytest

from adapters.system.vat_rates import european_vat_rates
from application.messaging.consumers import deliver
from application.subscriptions import build_registry
from domain.shared.money import round_minor
from domain.staff.roles import Role
from domain.tax.rates import RateTable
from tests.support.harness import PostgresHarness
from tests.support.http_app import client_for, settings_for, stocked_products, token_for
from tests.support.storefront import EU_CAPITALS, SAN_FRANCISCO, Browser, checkout_to
from tests.support.vat_table import EU_MEMBERS, KNOWN

CLASS_OF = {"Shirt": "standard", "Book": "reduced", "Meal": "reduced-2", "Paper": "super-reduced"}
PRICES = {"Shirt": 1200, "Book": 1055, "Meal": 1100, "Paper": 1021}  # 43.76 together: shipping is paid
PACKAGED = RateTable(european_vat_rates())
LAS_VEGAS = {"name": "Ada Lovelace", "line1": "1 Fremont St", "city": "Las Vegas", "postal_code": "89101",
             "country": "US", "region": "NV"}


@pytest.fixture(scope="module")
def client(database_url: str, redis_url: str):
    settings = settings_for(database_url, redis_url, redis_key_prefix=f"test:{uuid.uuid4().hex[:8]}:")
    with client_for(settings, base_url="https://testserver.local") as c:  # the cookies are Secure
        yield c


@pytest.fixture(scope="module")
async def goods(client, engine) -> dict[str, str]:
    made = await stocked_products(
        client, engine,
        [*((name, price, "EUR", 100) for name, price in PRICES.items()), ("Boot", 5950, "EUR", 20)],
        tax_classes={name: tax_class for name, tax_class in CLASS_OF.items() if tax_class != "standard"},
    )
    return {name: sku for name, (sku, _) in made.items()}


@pytest.fixture(scope="module")
async def owner(engine) -> dict[str, str]:
    return {"Authorization": f"Bearer {await token_for(engine, Role.OWNER)}"}


def _expected_rates(country: str) -> dict[str, int]:
    """By tax class, the rates the country defines: written by hand where the table has the country,
    else (Cyprus, Latvia, Lithuania) as the data package has them."""
    if country in KNOWN:
        return KNOWN[country]
    return {tax_class: rate.basis_points for tax_class, rate in PACKAGED.classes(country=country).items()}


def _contained(gross: int, basis_points: int) -> int:
    return round_minor(Fraction(gross) * basis_points / (10_000 + basis_points))


@pytest.mark.parametrize("country", EU_MEMBERS)
def test_every_eu_member_state_checks_out_to_an_order_taxed_at_its_rate_for_each_class(client, goods,
                                                                                         country) -> None:
    rates = _expected_rates(country)
    shopper = Browser(client)
    wanted = [name for name, tax_class in CLASS_OF.items() if tax_class in rates]  # standard, and its reduced
    for name in wanted:
        assert shopper.post("/store/cart/lines", json={"sku": goods[name], "quantity": 1}).status_code == 201
    checkout = checkout_to(shopper, EU_CAPITALS[country], "eu-standard", "manual")
    placed = shopper.post(f"/store/checkout/{checkout['id']}/place", headers={"Idempotency-Key": f"eu-{country}"})
    assert placed.status_code == 201, placed.text
    order = shopper.get(f"/store/orders/{placed.json()['order_id']}").json()

    sku_of = {line["id"]: line["sku"] for line in order["lines"]}
    taxed = {sku_of.get(t["applies_to"], t["applies_to"]): (t["basis_points"], t["amount"])
             for t in order["tax_lines"]}
    expected = {goods[name]: (rates[CLASS_OF[name]], _contained(PRICES[name], rates[CLASS_OF[name]]))
                for name in wanted}
    expected["shipping"] = (rates["standard"], _contained(490, rates["standard"]))
    assert taxed == expected
    goods_total = sum(PRICES[name] for name in wanted)
    assert order["totals"] == {"currency": "EUR", "subtotal": goods_total, "discount": 0, "shipping": 490,
                               "tax": sum(amount for _, amount in expected.values()), "total": goods_total + 490,
                               "prices_include_tax": True}
    assert order["shipping_address"]["country"] == country


def test_poland_once_refused_at_payment_places_an_order_with_polish_vat(client, goods) -> None:
    shopper = Browser(client)
    shopper.post("/store/cart/lines", json={"sku": goods["Boot"], "quantity": 1})
    checkout = checkout_to(shopper, EU_CAPITALS["PL"], "eu-standard", "manual")
    # €59.50, free shipping over €50; 23 % inside: 5950 × 23/123 = 1112.6 → 1113.
    assert checkout["totals"] == {"subtotal": 5950, "discount": 0, "shipping": 0, "tax": 1113, "total": 5950,
                                  "prices_include_tax": True}
    placed = shopper.post(f"/store/checkout/{checkout['id']}/place", headers={"Idempotency-Key": "pl-1"})
    assert placed.status_code == 201, placed.text
    order = shopper.get(f"/store/orders/{placed.json()['order_id']}").json()
    assert [(t["name"], t["basis_points"], t["amount"]) for t in order["tax_lines"]] == [("VAT", 2300, 1113)]


def test_a_euro_order_to_california_pays_sales_tax_on_the_price_without_german_vat(client, goods) -> None:
    shopper = Browser(client)
    shopper.post("/store/cart/lines", json={"sku": goods["Boot"], "quantity": 1})
    checkout = checkout_to(shopper, SAN_FRANCISCO, "us-eur-international", "manual")
    # €59.50 holds €9.50 of German VAT and the €19.90 shipping €3.18: €50.00 and €16.72 net, and
    # California's 7.25 % on top: 362.5 → 362 and 121.22 → 121. It was 7.25 % counted inside €79.40.
    assert checkout["totals"] == {"subtotal": 5000, "discount": 0, "shipping": 1672, "tax": 483, "total": 7155,
                                  "prices_include_tax": False}
    placed = shopper.post(f"/store/checkout/{checkout['id']}/place", headers={"Idempotency-Key": "ca-eur-1"})
    assert placed.status_code == 201, placed.text
    order = shopper.get(f"/store/orders/{placed.json()['order_id']}").json()
    assert (order["totals"]["total"], order["totals"]["prices_include_tax"]) == (7155, False)
    assert {(t["name"], t["basis_points"]) for t in order["tax_lines"]} == {("CA sales tax", 725)}


async def test_a_state_without_a_rate_is_refused_at_the_address_until_the_owner_sets_one(client, goods, owner,
                                                                                         engine) -> None:
    merch = {"Authorization": f"Bearer {await token_for(engine, Role.MERCHANDISER)}"}
    shopper = Browser(client)
    shopper.post("/store/cart/lines", json={"sku": goods["Boot"], "quantity": 1})
    checkout_id = shopper.post("/store/checkout").json()["id"]
    shopper.request("PUT", f"/store/checkout/{checkout_id}/contact", json={"email": shopper.email})
    refused = shopper.request("PUT", f"/store/checkout/{checkout_id}/address", json={"shipping": LAS_VEGAS})
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert (problem["type"].rsplit("/", 1)[1], problem["country"], problem["region"]) == (
        "untaxable-destination", "US", "NV")
    assert "US-NV" in problem["detail"]
    assert shopper.get(f"/store/checkout/{checkout_id}").json()["shipping_address"] is None

    assert client.put("/admin/tax/us-states/NV", headers=merch, json={"basis_points": 685}).status_code == 403
    bad = client.put("/admin/tax/us-states/ZZ", headers=owner, json={"basis_points": 685})
    assert (bad.status_code, bad.json()["type"].rsplit("/", 1)[1]) == (422, "invalid-tax-rate")
    assert client.put("/admin/tax/us-states/NV", headers=owner, json={"basis_points": 2501}).status_code == 400
    assert "NV" not in [r["state"] for r in client.get("/admin/tax/us-states", headers=merch).json()]
    set_rate = client.put("/admin/tax/us-states/NV", headers=owner, json={"basis_points": 685})
    assert set_rate.status_code == 200, set_rate.text
    assert set_rate.json() == {"state": "NV", "basis_points": 685, "name": "NV sales tax"}
    listed = client.get("/admin/tax/us-states", headers=merch).json()
    assert {"state": "CA", "basis_points": 725, "name": "CA sales tax"} in listed
    assert {"state": "NV", "basis_points": 685, "name": "NV sales tax"} in listed

    assert shopper.request("PUT", f"/store/checkout/{checkout_id}/address",
                           json={"shipping": LAS_VEGAS}).status_code == 200
    shopper.request("PUT", f"/store/checkout/{checkout_id}/shipping", json={"method_id": "us-eur-international"})
    paying = shopper.post(f"/store/checkout/{checkout_id}/payment", json={"provider": "manual"})
    assert paying.status_code == 200, paying.text
    # €50.00 and €16.72 without German VAT (as to California); Nevada's 6.85 % on top: 342.5 → 342, 114.53 → 115.
    assert paying.json()["totals"]["tax"] == 342 + 115
    assert paying.json()["totals"]["total"] == 5000 + 1672 + 457

    assert client.delete("/admin/tax/us-states/NV", headers=owner).status_code == 204
    gone = client.delete("/admin/tax/us-states/NV", headers=owner)
    assert (gone.status_code, gone.json()["type"].rsplit("/", 1)[1]) == (404, "tax-rate-not-found")


async def test_a_product_is_created_and_patched_with_its_tax_class_and_its_document_shows_it(client, engine,
                                                                                            unique) -> None:
    merch = {"Authorization": f"Bearer {await token_for(engine, Role.MERCHANDISER)}"}
    created = client.post("/admin/products", headers=merch, json={
        "name": f"Atlas {unique}", "sku": f"ATLAS-{unique}", "price": 2500, "currency": "EUR", "status": "active",
        "tax_class": "reduced"})
    assert created.status_code == 201, created.text
    product_id = created.json()["id"]
    refused = client.patch(f"/admin/products/{product_id}", headers=merch, json={"tax_class": "books"})
    assert refused.status_code == 400, refused.text
    assert "tax_class" in refused.text
    patched = client.patch(f"/admin/products/{product_id}", headers=merch, json={"tax_class": "super-reduced"})
    assert (patched.status_code, patched.json()["version"]) == (200, 2)

    harness = PostgresHarness(engine)
    registry = build_registry()
    for message in await harness.outbox_for(product_id):
        await deliver(registry, "catalog_projection", message, harness.uow())
    document = client.get(f"/store/products/atlas-{unique.lower()}").json()
    assert (document["id"], document["tax_class"]) == (product_id, "super-reduced")
