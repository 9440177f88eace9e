"""Acceptance of issue #10 on the real stack (PostgreSQL + Redis): a scripted shopper session through
the HTTP app gives the expected funnel counts and sales figures to the cent, and replaying the same
tracking batches and outbox messages twice does not double-count."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from dependency_injector import providers
from litestar.testing import TestClient
from sqlalchemy import select

from adapters.memory.analytics import InlineTrackingQueue
from adapters.memory.clock import SequentialIds
from adapters.postgres import tables as t
from adapters.postgres.unit_of_work import PostgresUnitOfWork
from application.messaging.consumers import deliver
from application.ports.outbox import OutboxMessage
from application.subscriptions import build_registry
from domain.staff.roles import Role
from entrypoints.http.app import create_app
from tests.support.http_app import make_container, settings_for, stocked_products, token_for
from tests.support.storefront import BERLIN, Browser, checkout_to

CONSUMERS = ("analytics_facts", "sales_projection")


@pytest.fixture(scope="module")
def client(database_url: str, redis_url: str):
    settings = settings_for(database_url, redis_url, redis_key_prefix=f"test:{uuid.uuid4().hex[:8]}:")
    container = make_container(settings)
    # Tracking batches are stored inline, through the use case the worker runs.
    container.tracking_queue.override(providers.Factory(InlineTrackingQueue, container.uow_factory))
    # https: the cart cookies are Secure.
    with TestClient(create_app(container, configure_logs=False), base_url="https://testserver.local") as c:
        yield c


@pytest.fixture(scope="module")
async def shop(client, engine) -> dict[str, str]:
    """Two products in stock and a published €10-off coupon promotion, all unique to this run."""
    merch = {"Authorization": f"Bearer {await token_for(engine, Role.MERCHANDISER)}"}
    made = await stocked_products(client, engine, [("Boot", 5950, "EUR", 20), ("Sock", 900, "EUR", 20)])
    tag = made["Boot"][0].rpartition("-")[2]
    shop = {}
    for name, (sku, product_id) in made.items():
        shop[name.lower()] = sku
        shop[f"{name.lower()}_product"] = product_id
    promotion = client.post("/admin/promotions", headers=merch, json={
        "name": f"€10 off {tag}", "rule": "when subtotal >= 50.00 EUR and currency = EUR then 10.00 EUR off order"})
    assert promotion.status_code == 201, promotion.text
    shop["promotion"] = promotion.json()["id"]
    codes = client.post(f"/admin/promotions/{shop['promotion']}/coupons", headers=merch,
                        json={"generate": 1, "prefix": f"T{tag}", "usage_limit": 1})
    assert codes.status_code == 201, codes.text
    shop["coupon"] = codes.json()["codes"][0]
    assert client.post(f"/admin/promotions/{shop['promotion']}/publish", headers=merch).status_code == 200
    return shop


def _event(kind: str, **fields) -> dict:
    return {"type": kind, "id": uuid.uuid4().hex, "occurred_at": datetime.now(UTC).isoformat(), **fields}


def _buy(shopper: Browser, lines: list[tuple[str, int]], *, coupon: str | None = None) -> str:
    for sku, quantity in lines:
        added = shopper.post("/store/cart/lines", json={"sku": sku, "quantity": quantity})
        assert added.status_code in (200, 201), added.text
    if coupon is not None:
        applied = shopper.post("/store/cart/coupons", json={"code": coupon})
        assert applied.status_code == 200, applied.text
    checkout = checkout_to(shopper, BERLIN, "eu-express", "manual")
    placed = shopper.post(f"/store/checkout/{checkout['id']}/place", headers={"Idempotency-Key": uuid.uuid4().hex})
    assert placed.status_code == 201, placed.text
    return str(placed.json()["order_id"])


async def _outbox_of(engine, aggregate_ids: list[str]) -> list[OutboxMessage]:
    async with engine.connect() as conn:
        rows = (await conn.execute(
            select(t.outbox).where(t.outbox.c.aggregate_id.in_(aggregate_ids)).order_by(t.outbox.c.seq)
        )).mappings()
        return [OutboxMessage(id=r["id"], topic=r["topic"], aggregate_id=r["aggregate_id"],
                              aggregate_version=r["aggregate_version"], occurred_at=r["occurred_at"],
                              payload=r["payload"]) for r in rows]


def _eur_sales(rows: list[dict]) -> dict[str, int]:
    fields = ("orders", "gross", "discounts", "tax", "shipping", "refunds", "net")
    return {f: sum(r[f] for r in rows if r["currency"] == "EUR") for f in fields}


async def test_a_scripted_session_gives_funnel_and_sales_figures_and_replays_count_once(
    client, engine, shop, unique
) -> None:
    support = {"Authorization": f"Bearer {await token_for(engine, Role.SUPPORT)}"}
    fulfilment = {"Authorization": f"Bearer {await token_for(engine, Role.FULFILMENT)}"}
    today = datetime.now(UTC).date()
    # Around today, so a run across midnight still sees every event.
    window = f"from={today - timedelta(days=1)}&to={today + timedelta(days=1)}"

    def reports() -> tuple[dict, dict[str, int]]:
        funnel = client.get(f"/admin/reports/funnel?{window}", headers=support)
        sales = client.get(f"/admin/reports/sales?{window}", headers=support)
        assert funnel.status_code == sales.status_code == 200, (funnel.text, sales.text)
        return funnel.json(), _eur_sales(sales.json())

    funnel_before, sales_before = reports()

    # Ada views the boot, adds two, uses the coupon and pays. Bo views both, adds socks, places but
    # never pays. Cy only looks. Di buys three pairs of socks, pays, and is refunded €2.00 for one.
    ada, bo, cy, di = (f"{who}-{unique}" for who in ("ada", "bo", "cy", "di"))
    boot, sock = shop["boot"], shop["sock"]
    batches = [
        {"anonymous_id": ada, "events": [
            _event("product_viewed", product_id=shop["boot_product"]),
            _event("added_to_cart", sku=boot, quantity=2), _event("checkout_started")]},
        {"anonymous_id": bo, "events": [
            _event("product_viewed", product_id=shop["boot_product"]),
            _event("product_viewed", product_id=shop["sock_product"]),
            _event("added_to_cart", sku=sock, quantity=1), _event("checkout_started")]},
        {"anonymous_id": cy, "events": [_event("product_viewed", product_id=shop["sock_product"])]},
        {"anonymous_id": di, "events": [
            _event("product_viewed", product_id=shop["sock_product"]),
            _event("added_to_cart", sku=sock, quantity=3), _event("checkout_started")]},
    ]
    for batch in batches * 2:  # every batch is sent twice (a client retry)
        assert client.post("/store/events", json=batch).status_code == 202

    ada_order = _buy(Browser(client), [(boot, 2)], coupon=shop["coupon"])
    bo_order = _buy(Browser(client), [(sock, 1)])
    di_order = _buy(Browser(client), [(sock, 3)])
    for paid in (ada_order, di_order):
        marked = client.post(f"/admin/orders/{paid}/mark-paid", headers=fulfilment,
                             json={"evidence": f"bank transfer for {paid}"})
        assert marked.status_code == 200, marked.text
    refunded = client.post(f"/admin/orders/{di_order}/refunds", headers=support,
                           json={"amount": 200, "reason": "one sock had a hole"})
    assert refunded.status_code == 200, refunded.text

    # The relay and the worker would hand each committed event to each consumer; here we do, twice.
    messages = await _outbox_of(engine, [ada_order, bo_order, di_order])
    assert {m.topic for m in messages} >= {"orders.order_placed.v1", "orders.order_paid.v1",
                                           "orders.order_refunded.v1"}
    registry = build_registry()

    def uow() -> PostgresUnitOfWork:
        return PostgresUnitOfWork(engine, SequentialIds())

    deliveries = [(c, m) for c in CONSUMERS for m in messages if registry.get(c).wants(m.topic)]
    firsts = [await deliver(registry, c, m, uow) for c, m in deliveries]
    replays = [await deliver(registry, c, m, uow) for c, m in deliveries]
    assert all(firsts)
    assert not any(replays)
    async with uow() as tx:  # and facts written again behind the consumer's back are still stored once
        assert not any([await tx.analytics.record_domain_event(
            event_id=m.id, topic=m.topic, aggregate_id=m.aggregate_id, occurred_at=m.occurred_at,
            payload=m.payload) for m in messages])

    funnel_after, sales_after = reports()
    assert {step: funnel_after[step] - funnel_before[step] for step in funnel_after} == {
        "viewed": 4, "added_to_cart": 3, "checkout_started": 3, "paid": 2}

    # Ada: 2 × €59.50 = €119.00, €10.00 off, €9.90 express → €118.90; 19 % VAT inside:
    #   €109.00 × 19/119 = €17.40 on the boots + €9.90 × 19/119 = €1.58 on shipping = €18.98.
    # Di: 3 × €9.00 = €27.00 + €9.90 → €36.90; VAT €4.31 + €1.58 = €5.89; then €2.00 refunded.
    ada_view = client.get(f"/admin/orders/{ada_order}", headers=support).json()
    di_view = client.get(f"/admin/orders/{di_order}", headers=support).json()
    assert (ada_view["totals"]["total"], ada_view["totals"]["discount"], ada_view["totals"]["tax"]) == (11890, 1000,
                                                                                                      1898)
    assert (di_view["totals"]["total"], di_view["totals"]["tax"]) == (3690, 589)
    assert {f: sales_after[f] - sales_before[f] for f in sales_after} == {
        "orders": 2, "gross": 11890 + 3690, "discounts": 1000, "tax": 1898 + 589, "shipping": 990 + 990,
        "refunds": 200, "net": 11890 + 3690 - 200,
    }

    top = client.get(f"/admin/reports/top-products?{window}&currency=EUR&limit=1000", headers=support)
    assert top.status_code == 200, top.text
    mine = {r["sku"]: r for r in top.json() if r["sku"] in (boot, sock)}
    assert mine == {  # Bo's order was never paid; line totals are as charged (Ada's after her €10.00 off)
        boot: {"sku": boot, "currency": "EUR", "orders": 1, "units": 2, "revenue": 10900},
        sock: {"sku": sock, "currency": "EUR", "orders": 1, "units": 3, "revenue": 2700},
    }
    merch = {"Authorization": f"Bearer {await token_for(engine, Role.MERCHANDISER)}"}
    promotions = client.get(f"/admin/reports/promotions?{window}&currency=EUR", headers=merch)
    assert promotions.status_code == 200, promotions.text
    assert [r for r in promotions.json() if r["promotion_id"] == shop["promotion"]] == [
        {"promotion_id": shop["promotion"], "version": 1, "currency": "EUR", "orders": 1, "discount": 1000,
         "revenue": 11890}]

    csv = client.get(f"/admin/reports/top-products?{window}&currency=EUR&limit=1000&format=csv", headers=merch)
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[0] == "sku,currency,orders,units,revenue"
    assert any(line.startswith(f"{boot},EUR,1,2,10900") for line in csv.text.splitlines())
    promo_csv = client.get(f"/admin/reports/promotions?{window}&format=csv", headers=support)
    assert promo_csv.text.splitlines()[0] == "promotion_id,version,currency,orders,discount,revenue"


async def test_sales_reports_need_a_reporting_role_and_a_sane_query(client, engine) -> None:
    today = datetime.now(UTC).date()
    fulfilment = {"Authorization": f"Bearer {await token_for(engine, Role.FULFILMENT)}"}
    support = {"Authorization": f"Bearer {await token_for(engine, Role.SUPPORT)}"}
    for report in ("top-products", "promotions"):
        assert client.get(f"/admin/reports/{report}?from={today}&to={today}").status_code == 401
        assert client.get(f"/admin/reports/{report}?from={today}&to={today}", headers=fulfilment).status_code == 403
        backwards = client.get(f"/admin/reports/{report}?from={today}&to={today - timedelta(days=1)}",
                               headers=support)
        assert backwards.status_code == 400
        assert backwards.headers["content-type"].startswith("application/problem+json")
        bad_currency = client.get(f"/admin/reports/{report}?from={today}&to={today}&currency=euro", headers=support)
        assert bad_currency.status_code == 400
