"""Audit row 1: unpaid (pay-later) orders must not hold stock hostage.

A guest with no account placed two manual orders for 100 units each and sold the product out for
everyone; nothing ever expired an unpaid manual order. Now pay-later is offered only in channels
that switch it on, a shopper keeps at most two such orders (ten units) open, and the payment
reconciler cancels one not paid by its deadline, which puts its units back on sale."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from application.carts import commands as cart
from application.catalog.commands import CreateProduct
from application.checkout import commands as co
from application.orders.handlers import SettleOrderStock
from application.orders.queries import GetOrder
from application.orders.stock import SecureOrderStock
from application.payments.commands import ReconcilePayments
from domain.staff.roles import Role
from tests.support.http_app import client_for, settings_for, stocked_products, token_for
from tests.support.storefront import BERLIN, SAN_FRANCISCO, Browser
from tests.support.unit import GUEST, available, build_shop, ready_to_pay, stock


@pytest.fixture(scope="module")
def client(database_url: str, redis_url: str) -> Iterator[Any]:
    settings = settings_for(database_url, redis_url, redis_key_prefix=f"test:{uuid.uuid4().hex[:8]}:")
    with client_for(settings, base_url="https://testserver.local") as client:
        yield client


@pytest.fixture
def strict_client(database_url: str, redis_url: str) -> Iterator[Any]:
    settings = settings_for(database_url, redis_url, redis_key_prefix=f"test:{uuid.uuid4().hex[:8]}:",
                            pay_later_per_address_per_day=3)
    with client_for(settings, base_url="https://testserver.local") as client:
        yield client


@pytest.fixture
async def goods(client: Any, engine: Any) -> dict[str, str]:
    made = await stocked_products(client, engine, [("Boot", 5950, "EUR", 200), ("Cap", 1500, "USD", 50)])
    return {name: sku for name, (sku, _) in made.items()}


@pytest.fixture
def boots(goods: dict[str, str]) -> str:
    return goods["Boot"]


def _to_payment(shopper: Browser, sku: str, quantity: int, *, email: str, channel: str | None = None,
                address: dict[str, str] = BERLIN, method: str = "eu-standard") -> Any:
    headers = {"X-Channel": channel} if channel else {}
    added = shopper.post("/store/cart/lines", json={"sku": sku, "quantity": quantity}, headers=headers)
    assert added.status_code == 201, added.text
    checkout_id = shopper.post("/store/checkout", headers=headers).json()["id"]
    for step, body in (("contact", {"email": email}), ("address", {"shipping": address}),
                       ("shipping", {"method_id": method})):
        answered = shopper.request("PUT", f"/store/checkout/{checkout_id}/{step}", json=body, headers=headers)
        assert answered.status_code == 200, answered.text
    return checkout_id, shopper.post(f"/store/checkout/{checkout_id}/payment", json={"provider": "manual"},
                                     headers=headers)


def _place(shopper: Browser, checkout_id: str) -> Any:
    return shopper.post(f"/store/checkout/{checkout_id}/place", headers={"Idempotency-Key": str(uuid.uuid4())})


def test_a_guest_cannot_promise_itself_sixty_units_on_an_invoice(client: Any, boots: str) -> None:
    guest = Browser(client)
    _, paying = _to_payment(guest, boots, 60, email=f"hoarder-{uuid.uuid4().hex[:6]}@example.com")
    assert paying.status_code == 409, paying.text
    assert paying.json()["type"].endswith("/too-many-unpaid-orders")


def test_a_third_open_invoice_is_refused_and_online_payment_still_works(client: Any, boots: str) -> None:
    email = f"twice-{uuid.uuid4().hex[:6]}@example.com"
    for _ in range(2):  # two open invoices: a normal shopper never meets the limit
        shopper = Browser(client)
        checkout_id, paying = _to_payment(shopper, boots, 1, email=email)
        assert paying.status_code == 200, paying.text
        placed = _place(shopper, checkout_id)
        assert placed.status_code == 201, placed.text
        assert placed.json()["pay_by"] is not None  # the shopper is told the deadline
    third = Browser(client)  # a fresh cookie jar, the same e-mail address
    _, refused = _to_payment(third, boots, 1, email=email)
    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith("application/problem+json")
    other = Browser(client)
    _, fine = _to_payment(other, boots, 1, email=f"other-{uuid.uuid4().hex[:6]}@example.com")
    assert fine.status_code == 200, fine.text


def test_pay_later_is_refused_where_the_channel_does_not_offer_it(client: Any, goods: dict[str, str]) -> None:
    shopper = Browser(client)
    _, paying = _to_payment(shopper, goods["Cap"], 1, email=f"us-{uuid.uuid4().hex[:6]}@example.com", channel="us",
                            address=SAN_FRANCISCO, method="us-ground")
    assert paying.status_code == 422, paying.text
    assert paying.json()["type"].endswith("/pay-later-not-offered")


async def test_a_sku_the_merchandiser_marks_online_only_is_refused_pay_later_with_a_problem(
    client: Any, engine: Any,
) -> None:
    sku, product_id = (await stocked_products(client, engine, [("Sneaker", 19900, "EUR", 10)]))["Sneaker"]
    merchandiser = {"Authorization": f"Bearer {await token_for(engine, Role.MERCHANDISER)}"}

    def mark(value: bool) -> None:
        marked = client.patch(f"/admin/products/{product_id}/variants/{sku}", headers=merchandiser,
                              json={"requires_online_payment": value})
        assert marked.status_code == 200, marked.text

    mark(True)
    _, refused = _to_payment(Browser(client), sku, 1, email=f"drop-{uuid.uuid4().hex[:6]}@example.com")
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    problem = refused.json()
    assert problem["type"].endswith("/online-payment-required")
    assert problem["skus"] == [sku]
    assert "pay online" in problem["detail"]
    mark(False)
    _, accepted = _to_payment(Browser(client), sku, 1, email=f"drop-{uuid.uuid4().hex[:6]}@example.com")
    assert accepted.status_code == 200, accepted.text


async def test_an_invoice_not_paid_by_its_deadline_is_cancelled_and_its_units_go_back() -> None:
    shop = build_shop()
    await shop.bus.handle(CreateProduct(name="Boot", sku="BOOT-1", price_amount=5950, currency="EUR", status="active"))
    await stock(shop.bus, "BOOT-1", 5)
    await shop.bus.handle(cart.AddCartLine(owner=GUEST, sku="BOOT-1", quantity=2))
    checkout_id, _ = await ready_to_pay(shop.bus, GUEST)
    order_id = (await shop.bus.handle(co.PlaceOrder(owner=GUEST, checkout_id=checkout_id))).order_id
    await shop.bus.handle(SecureOrderStock(order_id=order_id))  # the OrderPlaced consumer
    assert await available(shop.uow, "BOOT-1") == 3

    shop.clock.advance(timedelta(days=3) - timedelta(minutes=1))  # one minute before the deadline: kept
    await shop.bus.handle(ReconcilePayments())
    assert (await shop.bus.handle(GetOrder(order_id=order_id))).status == "pending"

    shop.clock.advance(timedelta(minutes=2))  # past it: cancelled by the reconciler
    counts = await shop.bus.handle(ReconcilePayments())
    assert counts["cancelled"] == 1
    order = await shop.bus.handle(GetOrder(order_id=order_id))
    assert order.status == "cancelled"
    assert order.timeline is not None
    assert "not paid by the deadline" in order.timeline[-1]["detail"]
    await shop.bus.handle(SettleOrderStock(order_id=order_id))  # the OrderStatusChanged consumer
    assert await available(shop.uow, "BOOT-1") == 5


async def test_one_address_rotating_cookies_and_e_mails_gets_a_few_pay_later_orders_a_day(
    strict_client: Any, engine: Any,
) -> None:
    boots = (await stocked_products(strict_client, engine, [("Boot", 5950, "EUR", 20)]))["Boot"][0]
    answers = []
    for n in range(4):  # every shopper new: cookies, cart, e-mail; the address stays
        _, paying = _to_payment(Browser(strict_client), boots, 1, email=f"bot{n}-{uuid.uuid4().hex[:6]}@example.com")
        answers.append(paying.status_code)
    assert answers == [200, 200, 200, 409]
