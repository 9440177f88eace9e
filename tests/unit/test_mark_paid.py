"""Marking a manual order paid names the evidence; without it nothing changes."""

from __future__ import annotations

import pytest

from application.carts import commands as cart
from application.catalog.commands import CreateProduct
from application.checkout import commands as co
from application.giftcards.handlers import IssueGiftCard
from application.orders.handlers import MarkPaid
from application.orders.queries import GetOrder
from domain.orders.order import InvalidTransition
from domain.shared.errors import InvalidInput
from tests.support.unit import GUEST, Shop, build_shop, ready_to_pay, stock


async def _placed(provider: str = "manual") -> tuple[Shop, str]:
    shop = build_shop()
    await shop.bus.handle(CreateProduct(name="Shoe", sku="SHOE-1", price_amount=5950, currency="EUR", status="active"))
    await stock(shop.bus, "SHOE-1", 5)
    await shop.bus.handle(cart.AddCartLine(owner=GUEST, sku="SHOE-1", quantity=1))
    checkout_id, _ = await ready_to_pay(shop.bus, GUEST, provider=provider)
    return shop, (await shop.bus.handle(co.PlaceOrder(owner=GUEST, checkout_id=checkout_id))).order_id


async def test_the_evidence_goes_on_the_timeline_beside_the_payment() -> None:
    shop, order_id = await _placed()
    view = await shop.bus.handle(MarkPaid(order_id=order_id, actor="staff:f1", evidence=" transfer ref 4411 "))
    assert view.status == "paid"
    assert view.timeline is not None
    pay, evidence = view.timeline[-2:]
    assert (pay["action"], pay["actor"]) == ("pay", "staff:f1")
    assert (evidence["action"], evidence["detail"], evidence["actor"]) == (
        "payment_evidence", "transfer ref 4411", "staff:f1")


@pytest.mark.parametrize("evidence", ["", "   ", "x" * 201])
async def test_no_evidence_or_too_much_marks_nothing_paid(evidence: str) -> None:
    shop, order_id = await _placed()
    before = await shop.bus.handle(GetOrder(order_id=order_id))
    with pytest.raises(InvalidInput):
        await shop.bus.handle(MarkPaid(order_id=order_id, actor="staff:f1", evidence=evidence))
    assert await shop.bus.handle(GetOrder(order_id=order_id)) == before


async def test_two_hundred_characters_of_evidence_are_kept() -> None:
    shop, order_id = await _placed()
    view = await shop.bus.handle(MarkPaid(order_id=order_id, actor="staff:f1", evidence="x" * 200))
    assert view.timeline is not None
    assert view.timeline[-1]["detail"] == "x" * 200


async def test_a_card_order_is_never_marked_paid_by_staff() -> None:
    shop, order_id = await _placed(provider="stripe")
    with pytest.raises(InvalidTransition):
        await shop.bus.handle(MarkPaid(order_id=order_id, actor="staff:f1", evidence="trust me"))


async def test_an_invoice_partly_paid_by_gift_card_is_marked_paid_for_the_rest() -> None:
    shop = build_shop()
    await shop.bus.handle(CreateProduct(name="Shoe", sku="SHOE-1", price_amount=5950, currency="EUR", status="active"))
    await stock(shop.bus, "SHOE-1", 5)
    gift = await shop.bus.handle(IssueGiftCard(amount=2000, currency="EUR", actor="staff:1"))
    await shop.bus.handle(cart.AddCartLine(owner=GUEST, sku="SHOE-1", quantity=1))
    checkout_id, _ = await ready_to_pay(shop.bus, GUEST, gift_card=gift["code"])
    order_id = (await shop.bus.handle(co.PlaceOrder(owner=GUEST, checkout_id=checkout_id))).order_id
    view = await shop.bus.handle(MarkPaid(order_id=order_id, actor="staff:f1", evidence="transfer ref 77"))
    assert view.status == "paid"
    assert view.payments[-1]["amount"] == view.totals["total"] - 2000  # the invoice was the rest
