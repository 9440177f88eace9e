"""Staff notes on an order: on its timeline with who and when, nothing else about the order changes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from application.carts import commands as cart
from application.catalog.commands import CreateProduct
from application.checkout import commands as co
from application.orders.errors import OrderNotVisible
from application.orders.notes import AddOrderNote
from application.orders.queries import GetOrder
from domain.shared.errors import InvalidInput
from tests.support.unit import GUEST, Shop, build_shop, ready_to_pay, stock


@pytest.fixture
async def placed() -> tuple[Shop, str]:
    shop = build_shop()
    await shop.bus.handle(CreateProduct(name="Shoe", sku="SHOE-1", price_amount=5950, currency="EUR", status="active"))
    await stock(shop.bus, "SHOE-1", 5)
    await shop.bus.handle(cart.AddCartLine(owner=GUEST, sku="SHOE-1", quantity=1))
    checkout_id, _ = await ready_to_pay(shop.bus, GUEST)
    order = await shop.bus.handle(co.PlaceOrder(owner=GUEST, checkout_id=checkout_id))
    return shop, order.order_id


async def test_a_note_lands_on_the_timeline_with_its_author_and_time(placed: tuple[Shop, str]) -> None:
    shop, order_id = placed
    before = await shop.bus.handle(GetOrder(order_id=order_id))
    shop.clock.advance(timedelta(minutes=5))
    view = await shop.bus.handle(AddOrderNote(order_id=order_id, actor="staff:kim", text="  Gift wrap, please  "))
    assert view.timeline is not None
    note = view.timeline[-1]
    assert (note["action"], note["actor"], note["detail"]) == ("staff_note", "staff:kim", "Gift wrap, please")
    assert note["at"] == "2026-06-01T12:05:00Z"
    assert (note["from_status"], note["to_status"]) == ("pending", "pending")
    assert (view.status, view.version) == (before.status, before.version + 1)
    assert await shop.bus.handle(GetOrder(order_id=order_id)) == view


@pytest.mark.parametrize("text", ["", "   ", "x" * 1001])
async def test_a_blank_or_overlong_note_is_refused_and_changes_nothing(placed: tuple[Shop, str], text: str) -> None:
    shop, order_id = placed
    before = await shop.bus.handle(GetOrder(order_id=order_id))
    with pytest.raises(InvalidInput):
        await shop.bus.handle(AddOrderNote(order_id=order_id, actor="staff:kim", text=text))
    assert await shop.bus.handle(GetOrder(order_id=order_id)) == before


async def test_a_note_of_exactly_the_limit_is_kept(placed: tuple[Shop, str]) -> None:
    shop, order_id = placed
    view = await shop.bus.handle(AddOrderNote(order_id=order_id, actor="staff:kim", text="x" * 1000))
    assert view.timeline is not None
    assert view.timeline[-1]["detail"] == "x" * 1000


async def test_a_note_on_an_unknown_order_is_not_found(placed: tuple[Shop, str]) -> None:
    shop, _ = placed
    with pytest.raises(OrderNotVisible):
        await shop.bus.handle(AddOrderNote(order_id="nope", actor="staff:kim", text="hello"))
