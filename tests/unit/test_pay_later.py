"""Pay later (the manual provider) promises stock before any money moves, so it is limited: a shopper
keeps at most two such orders and ten units open (counted over the customer or guest and over the
e-mail address), one client address starts at most ten a day, and only a channel that offers it
takes it. Through the bus with the in-memory fakes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.memory.clock import SequentialIds
from application.carts import commands as cart
from application.carts.pricing import Channels
from application.catalog.commands import CreateProduct
from application.checkout import commands as co
from application.customers.handlers import RegisterCustomer
from application.payments.errors import PayLaterNotOffered, TooManyUnpaidOrders
from domain.carts.cart import Owner
from tests.support.bus import build_bus
from tests.support.unit import GUEST, Shop, build_shop, ready_to_pay, stock


@pytest.fixture
async def shop() -> Shop:
    shop = build_shop()
    await shop.bus.handle(CreateProduct(name="Shoe", sku="SHOE-1", price_amount=5950, currency="EUR", status="active"))
    await stock(shop.bus, "SHOE-1", 40)
    return shop


async def pay_later(shop: Shop, owner: Owner, units: int, *, email: str) -> str:
    """Start a pay-later payment for ``units`` shoes: the checkout's id."""
    await shop.bus.handle(cart.AddCartLine(owner=owner, sku="SHOE-1", quantity=units))
    checkout_id, _ = await ready_to_pay(shop.bus, owner, email=email, provider="manual")
    return checkout_id


async def placed_later(shop: Shop, owner: Owner, units: int, *, email: str) -> None:
    checkout_id = await pay_later(shop, owner, units, email=email)
    await shop.bus.handle(co.PlaceOrder(owner=owner, checkout_id=checkout_id))


async def test_pay_later_is_refused_at_two_open_orders_or_over_ten_open_units_but_not_at_ten(shop) -> None:
    email = "ada@example.com"  # four guests, one address: counted together
    await placed_later(shop, Owner.guest("g1"), 4, email=email)
    with pytest.raises(TooManyUnpaidOrders, match=r"^1 unpaid orders \(4 units\) are open: pay one, or pay this "
                                                  r"order online$"):
        await pay_later(shop, Owner.guest("g2"), 7, email=email)  # 4 + 7 = 11 units
    await placed_later(shop, Owner.guest("g3"), 6, email=email)  # 4 + 6 = 10 units: allowed
    with pytest.raises(TooManyUnpaidOrders, match=r"^2 unpaid orders \(10 units\) are open"):
        await pay_later(shop, Owner.guest("g4"), 1, email=email)
    _, view = await ready_to_pay(shop.bus, Owner.guest("g4"), email=email, provider="stripe")
    assert view.payment_provider == "stripe"  # online payment is always open


async def test_a_guests_open_pay_later_orders_count_whatever_address_each_gave(shop) -> None:
    await placed_later(shop, GUEST, 1, email="a@example.com")
    await placed_later(shop, GUEST, 1, email="b@example.com")
    with pytest.raises(TooManyUnpaidOrders, match=r"^2 unpaid orders"):
        await pay_later(shop, GUEST, 1, email="c@example.com")
    await placed_later(shop, Owner.guest("another"), 1, email="d@example.com")  # someone else is not counted


async def test_a_customers_open_pay_later_orders_count_whatever_address_each_gave(shop) -> None:
    registered = await shop.bus.handle(RegisterCustomer(email="alice@example.com", password="correct horse 42",
                                                        name="Alice"))
    alice = Owner.customer(registered.id)
    await placed_later(shop, alice, 1, email="a@example.com")
    await placed_later(shop, alice, 1, email="b@example.com")
    with pytest.raises(TooManyUnpaidOrders, match=r"^2 unpaid orders"):
        await pay_later(shop, alice, 1, email="c@example.com")


async def test_one_client_address_starts_ten_pay_later_payments_a_day(shop) -> None:
    await shop.bus.handle(cart.AddCartLine(owner=GUEST, sku="SHOE-1", quantity=1))
    checkout_id, _ = await ready_to_pay(shop.bus, GUEST, provider="stripe")

    async def start(ip: str) -> None:
        await shop.bus.handle(co.StartPayment(owner=GUEST, checkout_id=checkout_id, provider="manual", client_ip=ip))

    for _ in range(10):
        await start("203.0.113.7")
    refusal = r"^too many pay-later orders from this address today: pay online$"
    with pytest.raises(TooManyUnpaidOrders, match=refusal):
        await start("203.0.113.7")
    await start("198.51.100.1")  # another address has its own count
    shop.clock.advance(timedelta(hours=24) - timedelta(seconds=1))
    with pytest.raises(TooManyUnpaidOrders, match=refusal):
        await start("203.0.113.7")
    shop.clock.advance(timedelta(seconds=1))  # a day after the first: a new day's count
    await start("203.0.113.7")


async def test_a_channel_that_does_not_offer_pay_later_refuses_it_by_name(shop) -> None:
    bus = build_bus(uow=shop.uow, clock=shop.clock, ids=SequentialIds(), channels=Channels.parse("web:EUR:DE:incl"))
    await bus.handle(cart.AddCartLine(owner=GUEST, sku="SHOE-1", quantity=1))
    with pytest.raises(PayLaterNotOffered, match=r"^the web channel takes no pay-later payment; pay online$"):
        await ready_to_pay(bus, GUEST, provider="manual")
