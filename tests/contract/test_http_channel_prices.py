"""Product documents priced for the shopper's channel, and the rules of price editing, over HTTP on the real
stack: each observed fault of issue #23's pricing part, as a test."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from adapters.memory.cdn import RecordingCdnPurger
from adapters.memory.search import MemorySearchIndex
from adapters.postgres import tables as t
from application.subscriptions import build_registry
from domain.catalog.categories import TREE_ID
from domain.staff.roles import Role
from tests.support.delivery import deliver_outbox
from tests.support.harness import PostgresHarness
from tests.support.http_app import client_for, set_stock_policy, settings_for, token_for
from tests.support.storefront import Browser

TAG = uuid.uuid4().hex[:6]
USD_CHANNEL, GBP_CHANNEL = f"cu{TAG}", f"cg{TAG}"  # this module's own channels: one list each per run
CHANNELS = f"web:EUR:DE:incl:pay-later,us:USD:US-CA:excl,uk:GBP:GB:incl,{USD_CHANNEL}:USD:US-CA:excl," \
           f"{GBP_CHANNEL}:GBP:GB:incl"


@pytest.fixture(scope="module")
def client(database_url: str, redis_url: str):
    settings = settings_for(database_url, redis_url, channels=CHANNELS, document_cache_seconds=0,
                            redis_key_prefix=f"test:{TAG}:", shop_time_zone="Europe/Berlin")
    with client_for(settings, base_url="https://testserver.local") as c:
        yield c


@pytest.fixture
async def auth(engine) -> dict[str, str]:
    return {"Authorization": f"Bearer {await token_for(engine, Role.MERCHANDISER)}"}


@pytest.fixture(scope="module")
async def lists(client, engine) -> dict[str, str]:
    """This module's channel price lists, by channel."""
    auth = {"Authorization": f"Bearer {await token_for(engine, Role.MERCHANDISER)}"}
    found = {}
    for channel, currency in ((USD_CHANNEL, "USD"), (GBP_CHANNEL, "GBP")):
        created = client.post("/admin/price-lists", headers=auth,
                              json={"name": f"{channel}", "currency": currency, "channel": channel})
        assert created.status_code == 201, created.text
        found[channel] = created.json()["id"]
    return found


class Worker:
    """The outbox's consumers, run in-process on the messages of the aggregates named."""

    def __init__(self, engine) -> None:
        self.harness = PostgresHarness(engine)
        self.registry = build_registry(cdn=RecordingCdnPurger(), search=MemorySearchIndex())
        self.seen: set[str] = set()

    async def run(self, *aggregate_ids: str) -> None:
        await deliver_outbox(self.harness, self.registry, [TREE_ID, *aggregate_ids], self.seen)


def product(client, auth, unique: str, name: str, price: int, currency: str = "EUR", **extra) -> tuple[str, str]:
    sku = f"{name.upper()}-{unique}"
    created = client.post("/admin/products", headers=auth, json={
        "name": f"{name} {unique}", "sku": sku, "price": price, "currency": currency, "status": "active", **extra})
    assert created.status_code == 201, created.text
    return sku, created.json()["id"]


def soon(**delta: float) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).isoformat()


def currencies_in(body: object) -> set[str]:
    """Every currency any price in the body is in."""
    if isinstance(body, dict):
        return {body["currency"]} if "currency" in body and "amount" in body else set().union(
            *(currencies_in(v) for v in body.values()))
    if isinstance(body, list):
        return set().union(*(currencies_in(v) for v in body))
    return set()


async def stored(engine, price_list_id: str, sku: str) -> tuple | None:
    async with engine.connect() as conn:
        row = (await conn.execute(select(t.prices.c.amount, t.prices.c.tiers, t.prices.c.sale_amount).where(
            t.prices.c.price_list_id == price_list_id, t.prices.c.sku == sku))).first()
    if row is None:
        return None
    return row.amount, [[tier["min_quantity"], tier["amount"]] for tier in row.tiers], row.sale_amount


def problem_type(response) -> str:
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    return response.json()["type"].rsplit("/", 1)[-1]


async def test_the_page_answers_in_the_shoppers_channel_with_tiers_and_a_running_sale(
    client, engine, unique, auth, lists,
) -> None:
    worker = Worker(engine)
    category = client.post("/admin/categories", headers=auth, json={"name": f"Chan {unique}"}).json()["id"]
    sku, product_id = product(client, auth, unique, "Chan", 10000, category_ids=[category])
    await set_stock_policy(client, engine, sku, track_inventory=False)
    ends = soon(hours=1)
    usd = client.put(f"/admin/price-lists/{lists[USD_CHANNEL]}/prices", headers=auth, json={"prices": [
        {"sku": sku, "amount": 12000, "tiers": [{"min_quantity": 3, "amount": 10000}],
         "sale": {"amount": 11000, "starts_at": soon(hours=-1), "ends_at": ends}}]})
    assert usd.status_code == 200, usd.text
    gbp = client.put(f"/admin/price-lists/{lists[GBP_CHANNEL]}/prices", headers=auth,
                     json={"prices": [{"sku": sku, "amount": 9000}]})
    assert gbp.status_code == 200, gbp.text
    await worker.run(product_id, *lists.values())
    slug = f"chan-{unique}"

    default = client.get(f"/store/products/{slug}")
    assert default.status_code == 200, default.text
    assert currencies_in(default.json()) == {"EUR"}
    assert default.json()["price_from"][0]["amount"] == 10000

    page = client.get(f"/store/products/{slug}", headers={"X-Channel": USD_CHANNEL.upper()})
    assert page.status_code == 200, page.text
    body = page.json()
    assert currencies_in(body) == {"USD"}  # not the EUR or GBP prices of other channels
    assert (body["channel"], body["currency"]) == (USD_CHANNEL, "USD")
    (variant,) = body["variants"]
    assert (variant["price"]["amount"], variant["regular_price"]["amount"]) == (11000, 12000)
    assert [(tier["min_quantity"], tier["amount"]) for tier in variant["tiers"]] == [(3, 10000)]
    assert variant["sale"]["amount"] == 11000
    shown_end = datetime.fromisoformat(variant["sale"]["ends_at"])
    assert shown_end == datetime.fromisoformat(ends)
    assert shown_end.utcoffset() == ZoneInfo("Europe/Berlin").utcoffset(shown_end.replace(tzinfo=None))  # the shop's
    assert [p["amount"] for p in body["price_from"]] == [11000]  # the running sale, not the base
    assert "X-Channel" in page.headers["vary"]
    max_age = int(re.search(r"max-age=(\d+)", page.headers["cache-control"])[1])
    assert max_age <= 3600  # no cache keeps the sale past its end
    assert page.headers["etag"] != default.headers["etag"]

    # What the cart of that channel charges: the page's price, and the tier's from 3 units on.
    shopper = Browser(client)
    channel = {"X-Channel": USD_CHANNEL}
    one = shopper.post("/store/cart/lines", json={"sku": sku, "quantity": 1}, headers=channel)
    assert one.status_code == 201, one.text
    assert one.json()["currency"] == "USD"
    assert one.json()["lines"][0]["unit_price"] == variant["price"]["amount"]
    line_id = one.json()["lines"][0]["id"]
    three = shopper.patch(f"/store/cart/lines/{line_id}", json={"quantity": 3}, headers=channel)
    assert three.status_code == 200, three.text
    assert three.json()["lines"][0]["unit_price"] == variant["tiers"][0]["amount"]

    # Listings and category pages give price_from in the channel, sale honoured.
    listing = client.get(f"/store/products?category={category}", headers=channel)
    assert listing.status_code == 200, listing.text
    assert [p["amount"] for p in listing.json()["items"][0]["price_from"]] == [11000]
    assert currencies_in(listing.json()) == {"USD"}
    assert "X-Channel" in listing.headers["vary"]
    assert int(re.search(r"max-age=(\d+)", listing.headers["cache-control"])[1]) <= 3600
    category_page = client.get(f"/store/categories/chan-{unique}", headers={"X-Channel": GBP_CHANNEL})
    assert [p["amount"] for p in category_page.json()["products"]["items"][0]["price_from"]] == [9000]


async def test_the_currency_parameter_picks_the_channel_selling_in_it(client, engine, unique, auth) -> None:
    worker = Worker(engine)
    _, product_id = product(client, auth, unique, "Dollar", 2500, currency="USD")
    await worker.run(product_id)
    slug = f"dollar-{unique}"
    in_usd = client.get(f"/store/products/{slug}?currency=USD")
    assert in_usd.status_code == 200, in_usd.text
    assert (in_usd.json()["channel"], in_usd.json()["variants"][0]["price"]["amount"]) == ("us", 2500)
    in_eur = client.get(f"/store/products/{slug}").json()  # the default channel sells in EUR: no price there
    assert (in_eur["price_from"], in_eur["variants"][0]["price"], in_eur["variants"][0]["prices"]) == ([], None, [])
    mismatch = client.get(f"/store/products/{slug}?currency=USD", headers={"X-Channel": GBP_CHANNEL})
    assert (mismatch.status_code, problem_type(mismatch)) == (422, "channel-currency-mismatch")
    unknown = client.get(f"/store/products/{slug}", headers={"X-Channel": f"nope{unique}".lower()})
    assert (unknown.status_code, problem_type(unknown)) == (400, "unknown-channel")


async def test_a_tier_or_a_sale_above_the_base_price_is_refused_and_nothing_is_stored(
    client, engine, unique, auth, lists,
) -> None:
    sku, _ = product(client, auth, unique, "Tiered", 5000)
    price_list = lists[USD_CHANNEL]
    assert client.put(f"/admin/price-lists/{price_list}/prices", headers=auth,
                      json={"prices": [{"sku": sku, "amount": 5000}]}).status_code == 200
    above = client.put(f"/admin/price-lists/{price_list}/prices", headers=auth, json={"prices": [
        {"sku": sku, "amount": 5000, "tiers": [{"min_quantity": 2, "amount": 5001}], "sale": None}]})
    assert (above.status_code, problem_type(above)) == (422, "invalid-price")
    sale = client.patch(f"/admin/price-lists/{price_list}/prices", headers=auth, json={"prices": [
        {"sku": sku, "sale": {"amount": 6000, "starts_at": soon(), "ends_at": soon(days=1)}}]})
    assert (sale.status_code, problem_type(sale)) == (422, "invalid-price")
    assert await stored(engine, price_list, sku) == (5000, [], None)


async def test_a_price_list_for_a_channel_that_does_not_exist_is_refused(client, engine, unique, auth) -> None:
    missing = client.post("/admin/price-lists", headers=auth,
                          json={"name": "x", "currency": "USD", "channel": f"nope-{unique}".lower()})
    assert (missing.status_code, problem_type(missing)) == (422, "unknown-sales-channel")
    wrong = client.post("/admin/price-lists", headers=auth, json={"name": "x", "currency": "EUR", "channel": "us"})
    assert (wrong.status_code, problem_type(wrong)) == (422, "channel-currency-mismatch")
    async with engine.connect() as conn:
        count = await conn.scalar(select(func.count()).select_from(t.price_lists).where(
            t.price_lists.c.channel == f"nope-{unique}".lower()))
    assert count == 0


async def test_put_refuses_to_delete_a_sale_or_tiers_and_patch_edits_one_field(
    client, engine, unique, auth, lists,
) -> None:
    sku, _ = product(client, auth, unique, "Edited", 5000)
    price_list = lists[GBP_CHANNEL]
    url = f"/admin/price-lists/{price_list}/prices"
    sale = {"amount": 8000, "starts_at": soon(hours=-1), "ends_at": soon(days=1)}
    assert client.put(url, headers=auth, json={"prices": [
        {"sku": sku, "amount": 9000, "tiers": [{"min_quantity": 5, "amount": 8500}], "sale": sale}]}).status_code == 200

    silent = client.put(url, headers=auth, json={"prices": [{"sku": sku, "amount": 9500}]})
    assert (silent.status_code, problem_type(silent)) == (409, "price-rules-would-be-lost")
    assert silent.json()["skus"] == [sku]
    assert await stored(engine, price_list, sku) == (9000, [[5, 8500]], 8000)

    amount = client.patch(url, headers=auth, json={"prices": [{"sku": sku, "amount": 9500}]})
    assert amount.status_code == 200, amount.text
    assert await stored(engine, price_list, sku) == (9500, [[5, 8500]], 8000)  # sale and tiers kept
    below_tier = client.patch(url, headers=auth, json={"prices": [{"sku": sku, "amount": 8400}]})
    assert (below_tier.status_code, problem_type(below_tier)) == (422, "invalid-price")
    cleared = client.patch(url, headers=auth, json={"prices": [{"sku": sku, "sale": None}]})
    assert cleared.status_code == 200, cleared.text
    assert await stored(engine, price_list, sku) == (9500, [[5, 8500]], None)
    replaced = client.put(url, headers=auth, json={"prices": [{"sku": sku, "amount": 9900, "tiers": []}]})
    assert replaced.status_code == 200, replaced.text  # the tiers removed as asked; no sale left to lose
    assert await stored(engine, price_list, sku) == (9900, [], None)
    unpriced = client.patch(url, headers=auth, json={"prices": [{"sku": f"NOPE-{unique}", "amount": 1}]})
    assert unpriced.status_code == 404
