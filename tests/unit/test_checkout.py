"""Checkout through the bus with fakes: steps, tax and shipping to the cent, stock holds, one order."""

from __future__ import annotations

import asyncio
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from adapters.memory.carts import MemoryCartCache, MemoryDurableCarts
from adapters.memory.inventory import MemoryStockGate
from adapters.memory.payments import MemoryPaymentGateway
from adapters.system.shipping import TableShippingRates
from application.carts import commands as cart
from application.carts.store import LayeredCartStore
from application.catalog import commands as o_catalog
from application.catalog.commands import CreateProduct, PriceSpec, SetPrices, VariantSpec
from application.catalog.snapshot import CatalogSnapshot
from application.checkout import commands as co
from application.giftcards.handlers import GetGiftCard, IssueGiftCard
from application.inventory import commands as inv
from application.inventory.queries import reservations_in_flight
from application.orders import handlers as o
from application.orders.stock import SecureOrderStock
from application.payments import commands as pay
from application.ports.payments import (
    DisputeClosed,
    DisputeOpened,
    PaymentError,
    PaymentFailed,
    PaymentRequest,
    PaymentSucceeded,
)
from application.promotions.engine import StoredPromotions
from domain.carts.cart import Owner
from domain.checkout.checkout import CartChanged, CheckoutState
from domain.giftcards.giftcard import GiftCardError, InsufficientBalance
from domain.inventory.errors import OutOfStock
from domain.inventory.reservation import BACKORDER
from domain.orders.order import InvalidTransition, OrderStatus, RefundTooLarge
from domain.shared.address import Address, InvalidAddress
from domain.shared.errors import ConcurrencyConflict
from domain.shipping.rates import Method, MethodNotOffered, RateKind, ShippingTable, UnsupportedDestination, Zone
from tests.support.unit import (
    BERLIN,
    GUEST,
    Shop,
    all_orders,
    available,
    build_shop,
    committed,
    default_cart_store,
    on_hand,
    peek_outbox,
    read_order,
    ready_to_pay,
    stock,
    tracked_skus,
)

CALIFORNIA = Address(name="Ada", line1="1 Market St", city="San Francisco", postal_code="94105", country="US",
                     region="CA")


@pytest.fixture
def shop() -> Shop:
    return build_shop()


async def shop_and_checkout(bus, *, address=BERLIN, channel=None, skus=(("SHOE-1", 2),)):
    for sku, quantity in skus:
        await bus.handle(cart.AddCartLine(owner=GUEST, sku=sku, quantity=quantity, channel=channel))
    view = await bus.handle(co.StartCheckout(owner=GUEST))
    await bus.handle(co.SetContact(owner=GUEST, checkout_id=view.id, email="ada@example.com"))
    await bus.handle(co.SetAddress(owner=GUEST, checkout_id=view.id, shipping=address))
    return view.id


@pytest.fixture
async def shoes(shop):
    bus, *_ = shop
    await bus.handle(CreateProduct(name="Shoe", sku="SHOE-1", price_amount=5950, currency="EUR", status="active"))
    await stock(bus, "SHOE-1", 10)
    return shop


async def test_germany_vat_inclusive_manual_payment_totals_to_the_cent(shoes) -> None:
    bus, uow, *_ = shoes
    checkout_id = await shop_and_checkout(bus)
    options = await bus.handle(co.ShippingOptions(owner=GUEST, checkout_id=checkout_id))
    assert [(o.id, o.amount) for o in options] == [("eu-standard", 0), ("eu-express", 990)]  # free over €50
    await bus.handle(co.ChooseShipping(owner=GUEST, checkout_id=checkout_id, method_id="eu-express"))
    view = await bus.handle(co.StartPayment(owner=GUEST, checkout_id=checkout_id, provider="manual"))
    # 2 × 59.50 + 9.90 express = 128.90, VAT included: 11900 × 19/119 = 1900; 990 × 19/119 = 158.07 → 158.
    assert view.totals == {"subtotal": 11900, "discount": 0, "shipping": 990, "tax": 1900 + 158, "total": 12890,
                           "prices_include_tax": True}
    assert await available(uow, "SHOE-1") == 8  # held while paying

    placed = await bus.handle(co.PlaceOrder(owner=GUEST, checkout_id=checkout_id))
    again = await bus.handle(co.PlaceOrder(owner=GUEST, checkout_id=checkout_id))
    assert (again.order_id, again.payment_reference) == (placed.order_id, placed.payment_reference)
    order = await read_order(uow, placed.order_id)
    assert (order.status, order.totals.total, order.payment_provider) == (OrderStatus.PENDING, 12890, "manual")
    assert [t.amount for t in order.tax_lines] == [1900, 158]
    assert len(await all_orders(uow)) == 1
    assert await committed(uow) == 2  # manual: the goods are promised now
    assert (await bus.handle(cart.ViewCart(owner=GUEST))).lines == []  # the cart was checked out


async def test_california_sales_tax_is_added_on_top(shop) -> None:
    bus, *_ = shop
    await bus.handle(CreateProduct(name="Shoe", sku="SHOE-US", price_amount=4999, currency="USD", status="active"))
    await stock(bus, "SHOE-US", 5)
    checkout_id = await shop_and_checkout(bus, address=CALIFORNIA, channel="us", skus=(("SHOE-US", 1),))
    options = await bus.handle(co.ShippingOptions(owner=GUEST, checkout_id=checkout_id))
    assert options[0].id == "us-ground"
    assert options[0].amount == 799
    await bus.handle(co.ChooseShipping(owner=GUEST, checkout_id=checkout_id, method_id="us-ground"))
    view = await bus.handle(co.StartPayment(owner=GUEST, checkout_id=checkout_id, provider="manual"))
    # 49.99 + 7.99 shipping = 57.98; 7.25 %: 362.43 → 362 and 57.93 → 58; total 57.98 + 4.20 = 62.18.
    assert view.totals["tax"] == 362 + 58
    assert view.totals["total"] == 4999 + 799 + 420
    assert view.currency == "USD"


async def test_bad_address_unsupported_country_and_unoffered_method_are_refused(shoes) -> None:
    bus, uow, *_ = shoes
    checkout_id = await shop_and_checkout(bus)
    with pytest.raises(InvalidAddress):
        await bus.handle(co.SetAddress(owner=GUEST, checkout_id=checkout_id, shipping=Address(
            name="Ada", line1="x", city="Berlin", postal_code="1", country="DE")))
    with pytest.raises(UnsupportedDestination):
        await bus.handle(co.SetAddress(owner=GUEST, checkout_id=checkout_id, shipping=Address(
            name="Ada", line1="1 Main Rd", city="Sydney", postal_code="2000", country="AU", region="NSW")))
    with pytest.raises(MethodNotOffered):
        await bus.handle(co.ChooseShipping(owner=GUEST, checkout_id=checkout_id, method_id="us-ground"))
    view = await bus.handle(co.GetCheckout(owner=GUEST, checkout_id=checkout_id))
    assert (view.shipping_address["country"], view.shipping_method, view.next_step) == ("DE", None, "shipping")
    assert await available(uow, "SHOE-1") == 10


async def test_a_cart_changed_after_payment_started_places_nothing(shoes) -> None:
    bus, uow, *_ = shoes
    checkout_id = await shop_and_checkout(bus)
    await bus.handle(co.ChooseShipping(owner=GUEST, checkout_id=checkout_id, method_id="eu-standard"))
    await bus.handle(co.StartPayment(owner=GUEST, checkout_id=checkout_id, provider="stripe"))
    await bus.handle(cart.AddCartLine(owner=GUEST, sku="SHOE-1", quantity=1))
    with pytest.raises(CartChanged):
        await bus.handle(co.PlaceOrder(owner=GUEST, checkout_id=checkout_id))
    assert await all_orders(uow) == []
    # Paying again re-prices the new cart and holds afresh (the old hold is released).
    view = await bus.handle(co.StartPayment(owner=GUEST, checkout_id=checkout_id, provider="stripe"))
    assert view.totals["total"] == 3 * 5950
    assert await available(uow, "SHOE-1") == 7


async def test_an_abandoned_payment_expires_and_the_stock_returns(shoes) -> None:
    bus, uow, clock, *_ = shoes
    checkout_id = await shop_and_checkout(bus)
    await bus.handle(co.ChooseShipping(owner=GUEST, checkout_id=checkout_id, method_id="eu-standard"))
    await bus.handle(co.StartPayment(owner=GUEST, checkout_id=checkout_id, provider="stripe"))
    assert await available(uow, "SHOE-1") == 8
    clock.advance(timedelta(minutes=11))
    assert (await bus.handle(inv.Reconcile())).expired == 1
    assert await available(uow, "SHOE-1") == 10


def event(reference: str, kind: str, event_id: str, amount: int = 0) -> PaymentSucceeded | PaymentFailed:
    neutral = PaymentSucceeded if kind == "payment_intent.succeeded" else PaymentFailed
    return neutral(id=event_id, type=kind, created=datetime(2026, 6, 1, tzinfo=UTC),
                        payment_reference=reference, amount=amount, currency="EUR")


async def test_webhooks_replayed_out_of_order_pay_the_order_once(shoes) -> None:
    bus, uow, *_ = shoes
    checkout_id = await shop_and_checkout(bus)
    await bus.handle(co.ChooseShipping(owner=GUEST, checkout_id=checkout_id, method_id="eu-standard"))
    await bus.handle(co.StartPayment(owner=GUEST, checkout_id=checkout_id, provider="stripe"))
    placed = await bus.handle(co.PlaceOrder(owner=GUEST, checkout_id=checkout_id))
    assert placed.client_secret
    ref = placed.payment_reference
    events = [
        event(ref, "payment_intent.payment_failed", "evt_fail"),  # a stale failure (card retried)
        event(ref, "payment_intent.succeeded", "evt_ok", 11900),
        event(ref, "payment_intent.succeeded", "evt_ok", 11900),  # a duplicate delivery
        event(ref, "payment_intent.succeeded", "evt_ok_again", 11900),  # the same fact, another id
    ]
    outcomes = []
    for replay in range(3):
        random.Random(replay).shuffle(events)
        for e in events:
            outcomes.append(await bus.handle(pay.HandlePaymentEvent(provider="stripe", event=e)))
        order = await read_order(uow, placed.order_id)
        assert order.status is OrderStatus.PAID
    assert [e.action for e in order.timeline].count("pay") == 1
    assert outcomes.count("paid") == 1
    assert await bus.handle(SecureOrderStock(order_id=placed.order_id)) == "committed"
    assert await bus.handle(SecureOrderStock(order_id=placed.order_id)) == "committed"  # idempotent
    assert await committed(uow) == 2


async def test_a_payment_after_the_hold_lapsed_and_the_units_sold_is_refunded(shoes) -> None:
    bus, uow, _clock, card, _ = shoes
    checkout_id = await shop_and_checkout(bus)
    await bus.handle(co.ChooseShipping(owner=GUEST, checkout_id=checkout_id, method_id="eu-standard"))
    await bus.handle(co.StartPayment(owner=GUEST, checkout_id=checkout_id, provider="stripe"))
    placed = await bus.handle(co.PlaceOrder(owner=GUEST, checkout_id=checkout_id))
    ref = placed.payment_reference
    await bus.handle(pay.HandlePaymentEvent(provider="stripe", event=event(ref, "payment_intent.payment_failed", "e1")))
    assert await available(uow, "SHOE-1") == 10  # the failed payment released the hold
    other = Owner.guest("someone-else")
    await bus.handle(cart.AddCartLine(owner=other, sku="SHOE-1", quantity=9))
    await bus.handle(inv.ReserveStock(reference="other-checkout", lines=[("SHOE-1", 9)]))
    card.succeed(ref)  # the shopper retried with another card
    paid = event(ref, "payment_intent.succeeded", "e2", 11900)
    await bus.handle(pay.HandlePaymentEvent(provider="stripe", event=paid))
    assert await bus.handle(SecureOrderStock(order_id=placed.order_id)) == "cancelled"
    order = await read_order(uow, placed.order_id)
    assert order.status is OrderStatus.CANCELLED
    assert [r.amount for r in order.refunds] == [11900]
    assert (await card.retrieve(ref)).status.value == "succeeded"
    assert order.refunds[0].reference.startswith("re_")


async def test_the_reconciler_settles_orders_whose_webhook_never_came(shoes) -> None:
    bus, uow, clock, card, _ = shoes
    placed = []
    for owner in (GUEST, Owner.guest("guest-2")):
        await bus.handle(cart.AddCartLine(owner=owner, sku="SHOE-1", quantity=1))
        checkout_id, _ = await ready_to_pay(bus, owner, provider="stripe")
        placed.append(await bus.handle(co.PlaceOrder(owner=owner, checkout_id=checkout_id)))
    card.succeed(placed[0].payment_reference)  # paid, but the webhook was lost
    await card.cancel(placed[1].payment_reference)  # abandoned and cancelled at the provider
    too_recent = await bus.handle(pay.ReconcilePayments())
    assert too_recent == {"paid": 0, "cancelled": 0, "waiting": 0, "errors": 0}
    clock.advance(timedelta(minutes=6))
    assert await bus.handle(pay.ReconcilePayments()) == {"paid": 1, "cancelled": 1, "waiting": 0, "errors": 0}
    orders = {order.id: order for order in await all_orders(uow)}
    assert orders[placed[0].order_id].status is OrderStatus.PAID
    assert orders[placed[1].order_id].status is OrderStatus.CANCELLED
    assert await available(uow, "SHOE-1") == 9  # the cancelled order's hold went back on sale
    assert await bus.handle(pay.ReconcilePayments()) == {"paid": 0, "cancelled": 0, "waiting": 0, "errors": 0}


async def paid_online(bus, card, event_id: str = "evt-paid"):
    """A card-paid order whose stock the order_stock consumer has not secured yet."""
    checkout_id = await shop_and_checkout(bus)
    await bus.handle(co.ChooseShipping(owner=GUEST, checkout_id=checkout_id, method_id="eu-standard"))
    await bus.handle(co.StartPayment(owner=GUEST, checkout_id=checkout_id, provider="stripe"))
    placed = await bus.handle(co.PlaceOrder(owner=GUEST, checkout_id=checkout_id))
    card.succeed(placed.payment_reference)
    await bus.handle(pay.HandlePaymentEvent(provider="stripe", event=event(
        placed.payment_reference, "payment_intent.succeeded", event_id, 11900)))
    return placed


async def paid_order(bus, card, event_id: str = "evt-paid") -> str:
    placed = await paid_online(bus, card, event_id)
    assert await bus.handle(SecureOrderStock(order_id=placed.order_id)) == "committed"
    return placed.order_id


async def test_a_shipped_order_takes_its_units_off_the_shelf_once_through_its_status_event(shoes) -> None:
    from application.messaging.consumers import deliver
    from application.subscriptions import build_registry
    from domain.orders.order import OrderStatusChanged

    bus, uow, _, card, outbox = shoes
    order_id = await paid_order(bus, card)
    assert await bus.handle(o.SettleOrderStock(order_id=order_id)) == "nothing-to-do"
    await bus.handle(o.FulfilOrder(order_id=order_id, actor="staff:1"))
    await bus.handle(o.ShipOrder(order_id=order_id, actor="staff:1", carrier="DHL", tracking_number="00340"))
    assert (await committed(uow), await on_hand(uow)) == (2, 10)  # in the van, not yet in the ledger

    asked: list[object] = []

    async def dispatch(command: object) -> None:
        asked.append(command)  # the memory fake cannot nest the command's transactions in the consumer's

    status_events = [m for m in await peek_outbox(outbox)
                     if m.topic == OrderStatusChanged.topic and m.aggregate_id == order_id]
    for message in status_events:
        await deliver(build_registry(dispatch=dispatch), "order_stock", message, uow)
    assert asked == [o.SettleOrderStock(order_id=order_id)]  # fulfil is not a shipment; ship is
    assert await bus.handle(asked[0]) == "shipped"
    assert (await committed(uow), await on_hand(uow)) == (0, 8)
    assert await bus.handle(o.SettleOrderStock(order_id=order_id)) == "already-settled"  # redelivered
    assert (await committed(uow), await on_hand(uow), await available(uow, "SHOE-1")) == (0, 8, 8)


async def test_an_unshipped_order_refunded_in_full_puts_its_units_back_on_sale(shoes) -> None:
    bus, uow, _, card, _ = shoes
    kept, refunded = await paid_order(bus, card, "evt-1"), await paid_order(bus, card, "evt-2")
    assert (await committed(uow), await available(uow, "SHOE-1")) == (4, 6)
    # A goodwill refund: the order still ships, so its units stay committed to it.
    await bus.handle(o.RefundOrder(order_id=kept, actor="staff:1", amount=1000, reason="late"))
    assert await bus.handle(o.SettleOrderStock(order_id=kept)) == "nothing-to-do"
    await bus.handle(o.FulfilOrder(order_id=kept, actor="staff:1"))
    await bus.handle(o.ShipOrder(order_id=kept, actor="staff:1", carrier="DHL", tracking_number="1"))
    assert await bus.handle(o.SettleOrderStock(order_id=kept)) == "shipped"

    await bus.handle(o.RefundOrder(order_id=refunded, actor="staff:1", amount=11900, reason="not wanted"))
    assert await bus.handle(o.SettleOrderStock(order_id=refunded)) == "returned"
    assert await bus.handle(o.SettleOrderStock(order_id=refunded)) == "already-settled"
    assert (await committed(uow), await on_hand(uow), await available(uow, "SHOE-1")) == (0, 8, 8)


async def test_an_order_that_ships_units_its_lapsed_hold_lost_is_reported_not_retried(shoes) -> None:
    bus, uow, clock, card, _ = shoes
    placed = await paid_online(bus, card)
    # The stock consumer is down: the hold lapses, the units go to the fair, and the parcel leaves.
    clock.advance(timedelta(hours=2))
    await bus.handle(inv.Reconcile())
    await bus.handle(inv.AdjustStock(sku="SHOE-1", location_id="main", delta=-10, reason="sold at the fair",
                                     actor="ops"))
    await bus.handle(o.FulfilOrder(order_id=placed.order_id, actor="staff:1"))
    await bus.handle(o.ShipOrder(order_id=placed.order_id, actor="staff:1", carrier="DHL", tracking_number="2"))
    assert await bus.handle(o.SettleOrderStock(order_id=placed.order_id)) == "units-gone"  # an alert, no retry loop
    assert (await committed(uow), await on_hand(uow)) == (0, 0)


async def test_a_dispute_opens_and_closes_won_or_lost(shoes) -> None:
    bus, uow, _, card, _ = shoes
    order_id = await paid_order(bus, card)
    ref = (await read_order(uow, order_id)).payments[0].reference

    def dispute(kind: str, event_id: str, **data) -> DisputeOpened | DisputeClosed:
        common = {"id": event_id, "type": kind, "created": datetime(2026, 6, 2, tzinfo=UTC), "payment_reference": ref,
                  "data": {"id": "dp_1", **data}, "dispute_id": "dp_1"}
        if kind == "charge.dispute.created":
            due = data.get("evidence_due_by")
            return DisputeOpened(**common, evidence_due=datetime.fromtimestamp(due, UTC) if due else None)
        return DisputeClosed(**common, won=data.get("status") == "won")

    assert await bus.handle(pay.HandlePaymentEvent(provider="stripe", event=dispute(
        "charge.dispute.created", "d1", evidence_due_by=1781000000))) == "disputed"
    order = await read_order(uow, order_id)
    assert order.status is OrderStatus.DISPUTED
    assert order.dispute_deadline is not None
    assert await bus.handle(pay.HandlePaymentEvent(provider="stripe", event=dispute(
        "charge.dispute.closed", "d2", status="won"))) == "dispute-closed"
    assert (await read_order(uow, order_id)).status is OrderStatus.PAID
    await bus.handle(pay.HandlePaymentEvent(provider="stripe", event=dispute("charge.dispute.created", "d3")))
    await bus.handle(pay.HandlePaymentEvent(provider="stripe", event=dispute("charge.dispute.closed", "d4",
                                                                              status="lost")))
    lost = await read_order(uow, order_id)
    assert (lost.status, lost.refunded) == (OrderStatus.REFUNDED, 11900)


async def test_cancelling_a_paid_order_refunds_it_and_returns_the_units(shoes) -> None:
    bus, uow, _, card, _ = shoes
    order_id = await paid_order(bus, card)
    assert (await committed(uow), await available(uow, "SHOE-1")) == (2, 8)
    with pytest.raises(RefundTooLarge):
        await bus.handle(o.RefundOrder(order_id=order_id, actor="staff:1", amount=11901, reason="too much"))
    view = await bus.handle(o.CancelOrder(order_id=order_id, actor="staff:1", reason="customer asked"))
    assert view.status == "cancelled"
    assert [r["amount"] for r in view.refunds] == [11900]
    assert (await committed(uow), await available(uow, "SHOE-1")) == (0, 10)  # the sold units are for sale again
    with pytest.raises(InvalidTransition):
        await bus.handle(o.CancelOrder(order_id=order_id, actor="staff:1", reason="twice"))
    assert (await committed(uow), await available(uow, "SHOE-1")) == (0, 10)  # returned once
    assert [e["action"] for e in view.timeline][-1] == "cancel"


async def test_a_gift_card_pays_part_and_takes_its_share_of_a_refund(shoes) -> None:
    bus, uow, _, card, _ = shoes
    gift = await bus.handle(IssueGiftCard(amount=5000, currency="EUR", actor="staff:1"))
    checkout_id = await shop_and_checkout(bus)
    await bus.handle(co.ChooseShipping(owner=GUEST, checkout_id=checkout_id, method_id="eu-standard"))
    view = await bus.handle(co.StartPayment(owner=GUEST, checkout_id=checkout_id, provider="stripe",
                                            gift_card=gift["code"].lower()))
    assert view.totals["total"] == 11900
    placed = await bus.handle(co.PlaceOrder(owner=GUEST, checkout_id=checkout_id))
    assert (await card.retrieve(placed.payment_reference)).amount == 6900  # the card paid 50.00
    assert (await bus.handle(GetGiftCard(code=gift["code"])))["balance"] == 0
    card.succeed(placed.payment_reference)
    await bus.handle(pay.HandlePaymentEvent(provider="stripe", event=event(
        placed.payment_reference, "payment_intent.succeeded", "evt-gc", 6900)))
    order = await read_order(uow, placed.order_id)
    assert (order.status, order.captured) == (OrderStatus.PAID, 11900)
    refunded = await bus.handle(o.RefundOrder(order_id=order.id, actor="staff:1", amount=9000, reason="returned"))
    assert [r["amount"] for r in refunded.refunds] == [6900, 2100]  # the provider first, then the card
    assert (await bus.handle(GetGiftCard(code=gift["code"])))["balance"] == 2100


async def test_a_gift_card_covering_everything_pays_at_once_and_cannot_pay_twice(shoes) -> None:
    bus, uow, *_ = shoes
    gift = await bus.handle(IssueGiftCard(amount=20000, currency="EUR", actor="staff:1"))
    checkout_id = await shop_and_checkout(bus)
    await bus.handle(co.ChooseShipping(owner=GUEST, checkout_id=checkout_id, method_id="eu-standard"))
    await bus.handle(co.StartPayment(owner=GUEST, checkout_id=checkout_id, provider="manual", gift_card=gift["code"]))
    other = Owner.guest("guest-two")
    await bus.handle(cart.AddCartLine(owner=other, sku="SHOE-1", quantity=2))
    second, _ = await ready_to_pay(bus, other, email="b@example.com", gift_card=gift["code"])

    placed = await bus.handle(co.PlaceOrder(owner=GUEST, checkout_id=checkout_id))
    assert (placed.status, placed.payment_provider) == ("paid", "giftcard")
    assert (await read_order(uow, placed.order_id)).status is OrderStatus.PAID
    with pytest.raises(InsufficientBalance):  # the card was spent by the first checkout meanwhile
        await bus.handle(co.PlaceOrder(owner=other, checkout_id=second))
    assert [order.id for order in await all_orders(uow)] == [placed.order_id]


async def test_a_cancelled_pending_order_voids_its_payment_and_a_stray_success_is_refunded(shoes) -> None:
    bus, uow, _, card, _ = shoes
    checkout_id = await shop_and_checkout(bus)
    await bus.handle(co.ChooseShipping(owner=GUEST, checkout_id=checkout_id, method_id="eu-standard"))
    await bus.handle(co.StartPayment(owner=GUEST, checkout_id=checkout_id, provider="stripe"))
    placed = await bus.handle(co.PlaceOrder(owner=GUEST, checkout_id=checkout_id))
    await bus.handle(o.CancelOrder(order_id=placed.order_id, actor="staff:1", reason="customer called"))
    assert (await card.retrieve(placed.payment_reference)).status.value == "canceled"
    again = await bus.handle(co.PlaceOrder(owner=GUEST, checkout_id=checkout_id))  # a late retry of place
    assert again.status == "cancelled"
    assert again.payment_reference == placed.payment_reference  # no new payment for a cancelled order

    stray = await card.create(PaymentRequest(order_id=placed.order_id, amount=11900, currency="EUR",
                                             idempotency_key="another-tab"))
    card.succeed(stray.reference)
    outcome = await bus.handle(pay.HandlePaymentEvent(provider="stripe", event=PaymentSucceeded(
        id="evt-stray", type="payment_intent.succeeded", created=datetime(2026, 6, 1, tzinfo=UTC),
        payment_reference=stray.reference, amount=11900, currency="EUR", order_id=placed.order_id)))
    assert outcome == "orphan-refunded"
    order = await read_order(uow, placed.order_id)
    assert order.status is OrderStatus.CANCELLED
    assert order.timeline[-1].action == "orphan_payment_refunded"
    assert await bus.handle(pay.HandlePaymentEvent(provider="stripe", event=PaymentSucceeded(
        id="evt-stray", type="payment_intent.succeeded", created=datetime(2026, 6, 1, tzinfo=UTC),
        payment_reference=stray.reference, amount=11900, currency="EUR", order_id=placed.order_id))) == "duplicate"


async def test_cancelling_a_pending_order_gives_the_gift_card_its_money_back(shoes) -> None:
    bus, *_ = shoes
    gift = await bus.handle(IssueGiftCard(amount=3000, currency="EUR", actor="staff:1"))
    checkout_id = await shop_and_checkout(bus)
    await bus.handle(co.ChooseShipping(owner=GUEST, checkout_id=checkout_id, method_id="eu-standard"))
    await bus.handle(co.StartPayment(owner=GUEST, checkout_id=checkout_id, provider="manual", gift_card=gift["code"]))
    placed = await bus.handle(co.PlaceOrder(owner=GUEST, checkout_id=checkout_id))
    assert (await bus.handle(GetGiftCard(code=gift["code"])))["balance"] == 0
    await bus.handle(o.CancelOrder(order_id=placed.order_id, actor="staff:1", reason="changed mind"))
    assert (await bus.handle(GetGiftCard(code=gift["code"])))["balance"] == 3000


async def test_a_guest_can_shop_again_after_checking_out(shoes) -> None:
    bus, *_ = shoes
    checkout_id = await shop_and_checkout(bus)
    await bus.handle(co.ChooseShipping(owner=GUEST, checkout_id=checkout_id, method_id="eu-standard"))
    await bus.handle(co.StartPayment(owner=GUEST, checkout_id=checkout_id, provider="manual"))
    await bus.handle(co.PlaceOrder(owner=GUEST, checkout_id=checkout_id))
    await bus.handle(cart.AddCartLine(owner=GUEST, sku="SHOE-1", quantity=1))
    assert [(line.sku, line.quantity) for line in (await bus.handle(cart.ViewCart(owner=GUEST))).lines] == [
        ("SHOE-1", 1)]


@pytest.mark.parametrize(
    ("policy", "stock", "pays"),
    [
        ({}, "sold_out", False),  # tracked, and no stock row at all
        ({"track_inventory": False}, "untracked", True),
        ({"allow_backorder": True}, "backorder", True),
    ],
)
async def test_the_cart_and_the_payment_give_one_answer_for_a_sku_without_stock(shop, policy, stock, pays) -> None:
    bus, uow, *_ = shop
    await bus.handle(CreateProduct(name="Kite", sku="KITE-1", price_amount=3000, currency="EUR", status="active"))
    await bus.handle(inv.SetSkuPolicy(sku="KITE-1", track_inventory=False))  # in the cart while sold uncounted
    await bus.handle(cart.AddCartLine(owner=GUEST, sku="KITE-1", quantity=1))
    await bus.handle(inv.SetSkuPolicy(sku="KITE-1", **policy))
    assert await tracked_skus(uow) == []  # nothing was ever received

    [line] = (await bus.handle(cart.ViewCart(owner=GUEST))).lines
    assert (line.stock, line.available, line.reason) == (stock, pays, None if pays else "sold out")
    checkout_id = (await bus.handle(co.StartCheckout(owner=GUEST))).id
    await bus.handle(co.SetContact(owner=GUEST, checkout_id=checkout_id, email="ada@example.com"))
    await bus.handle(co.SetAddress(owner=GUEST, checkout_id=checkout_id, shipping=BERLIN))
    await bus.handle(co.ChooseShipping(owner=GUEST, checkout_id=checkout_id, method_id="eu-standard"))
    if pays:
        view = await bus.handle(co.StartPayment(owner=GUEST, checkout_id=checkout_id, provider="manual"))
        assert view.state == "payment"
        [hold] = await reservations_in_flight(uow=uow)
        assert [(h.sku, h.location_id) for h in hold.lines] == ([] if stock == "untracked" else [("KITE-1", BACKORDER)])
    else:
        with pytest.raises(OutOfStock) as refused:
            await bus.handle(co.StartPayment(owner=GUEST, checkout_id=checkout_id, provider="manual"))
        assert refused.value.skus == ["KITE-1"]
        assert await reservations_in_flight(uow=uow) == []


async def test_a_bundle_line_is_paid_for_by_holding_its_components(shop) -> None:
    bus, uow, *_ = shop
    await bus.handle(CreateProduct(name="Shoe", sku="SHOE-1", price_amount=5950, currency="EUR", status="active"))
    await bus.handle(CreateProduct(name="Sock", sku="SOCK-1", price_amount=500, currency="EUR", status="active"))
    await stock(bus, "SHOE-1", 10)
    await stock(bus, "SOCK-1", 20)
    await bus.handle(CreateProduct(name="Kit", status="active",
                                   variants=[VariantSpec(sku="KIT-1", components=[("SHOE-1", 1), ("SOCK-1", 2)])]))
    async with uow() as tx:
        price_list = next(pl.id for pl in await tx.price_lists.for_skus(["KIT-1"]) if pl.currency == "EUR")
    await bus.handle(SetPrices(price_list_id=price_list, prices=[PriceSpec(sku="KIT-1", amount=6500)]))
    await bus.handle(cart.AddCartLine(owner=GUEST, sku="KIT-1", quantity=2))
    [line] = (await bus.handle(cart.ViewCart(owner=GUEST))).lines
    assert (line.stock, line.available) == ("in_stock", True)  # the kit SKU itself has no stock row
    await ready_to_pay(bus, GUEST)
    assert (await available(uow, "SHOE-1"), await available(uow, "SOCK-1")) == (8, 16)


# -- what the checkout hands on: the options shown, the order placed, the payment asked for ----------------------


async def test_shipping_options_show_each_methods_name_price_currency_and_delivery_time(shoes) -> None:
    bus, *_ = shoes
    checkout_id = await shop_and_checkout(bus, skus=(("SHOE-1", 1),))
    options = await bus.handle(co.ShippingOptions(owner=GUEST, checkout_id=checkout_id))
    assert [(o.id, o.name, o.amount, o.currency, o.days) for o in options] == [
        ("eu-standard", "Standard", 0, "EUR", "2-4"), ("eu-express", "Express", 990, "EUR", "1-2"),
    ]


async def test_a_placed_order_carries_the_checkouts_shopper_lines_addresses_and_hold(shoes) -> None:
    bus, uow, clock, *_ = shoes
    checkout_id = await shop_and_checkout(bus)
    await bus.handle(co.ChooseShipping(owner=GUEST, checkout_id=checkout_id, method_id="eu-standard"))
    paying = await bus.handle(co.StartPayment(owner=GUEST, checkout_id=checkout_id, provider="stripe"))
    placed = await bus.handle(co.PlaceOrder(owner=GUEST, checkout_id=checkout_id))
    order = await read_order(uow, placed.order_id)
    [hold] = await reservations_in_flight(uow=uow)
    assert order.number == f"EM-20260601-{placed.order_id.replace('-', '')[-12:].upper()}" == placed.number
    assert (order.customer_id, order.guest_id, order.email, order.checkout_id) == (
        None, GUEST.id, "ada@example.com", checkout_id
    )
    assert (order.timeline[0].actor, order.timeline[0].at) == (f"guest:{GUEST.id}", clock.now())
    assert order.billing_address == order.shipping_address  # no billing address given: the shipping one
    assert (order.shipping_address.line1, order.shipping_address.country) == (BERLIN.line1, "DE")
    assert (order.payment_provider, order.shipping_method, order.reservation_id) == ("stripe", "eu-standard", hold.id)
    [line] = order.lines
    assert (line.sku, line.name, line.quantity, line.unit_price, line.total) == ("SHOE-1", "Shoe", 2, 5950, 11900)
    assert line.product_id
    assert line.id == paying.lines[0]["id"]


async def _alice_with_a_shoe(bus) -> Owner:
    """A signed-up customer with one shoe in her cart."""
    from application.customers.handlers import RegisterCustomer

    registered = await bus.handle(RegisterCustomer(email="alice@example.com", password="correct horse 42",
                                                   name="Alice"))
    alice = Owner.customer(registered.id)
    await bus.handle(cart.AddCartLine(owner=alice, sku="SHOE-1", quantity=1))
    return alice


async def test_a_customers_order_is_theirs_and_not_a_guests(shoes) -> None:
    bus, uow, *_ = shoes
    alice = await _alice_with_a_shoe(bus)
    checkout_id, _ = await ready_to_pay(bus, alice, email="alice@example.com")
    order = await read_order(uow, (await bus.handle(co.PlaceOrder(owner=alice, checkout_id=checkout_id))).order_id)
    assert (order.customer_id, order.guest_id, order.timeline[0].actor) == (
        alice.id, None, f"customer:{alice.id}"
    )
    assert order.payment_provider == "manual"


async def test_the_provider_is_asked_for_what_is_due_keyed_by_the_order_and_the_payment_is_logged(shoes) -> None:
    bus, uow, clock, card, _ = shoes
    gift = await bus.handle(IssueGiftCard(amount=1000, currency="EUR", actor="staff:1"))
    checkout_id = await shop_and_checkout(bus)
    await bus.handle(co.ChooseShipping(owner=GUEST, checkout_id=checkout_id, method_id="eu-standard"))
    await bus.handle(co.StartPayment(owner=GUEST, checkout_id=checkout_id, provider="stripe", gift_card=gift["code"]))
    clock.advance(timedelta(minutes=1))
    placed = await bus.handle(co.PlaceOrder(owner=GUEST, checkout_id=checkout_id))
    # The same request again is the same payment (the provider would refuse a different one under this key).
    again = await card.create(PaymentRequest(
        order_id=placed.order_id, amount=11900 - 1000, currency="EUR", idempotency_key=f"order-{placed.order_id}",
        email="ada@example.com", description=f"Order {placed.number}",
    ))
    assert again.reference == placed.payment_reference
    order = await read_order(uow, placed.order_id)
    [started] = [e for e in order.timeline if e.action == "payment_started"]
    assert (started.actor, started.at, started.detail) == ("system", clock.now(), f"stripe {placed.payment_reference}")


async def test_a_gift_card_in_another_currency_or_with_nothing_left_is_refused_and_one_cent_pays_one_cent(
    shoes,
) -> None:
    bus, *_ = shoes
    dollars = await bus.handle(IssueGiftCard(amount=5000, currency="USD", actor="staff:1"))
    spent = await bus.handle(IssueGiftCard(amount=5950, currency="EUR", actor="staff:1"))
    cent = await bus.handle(IssueGiftCard(amount=1, currency="EUR", actor="staff:1"))
    await bus.handle(cart.AddCartLine(owner=GUEST, sku="SHOE-1", quantity=1))
    checkout_id, _ = await ready_to_pay(bus, GUEST, gift_card=spent["code"])
    await bus.handle(co.PlaceOrder(owner=GUEST, checkout_id=checkout_id))  # the card pays all of it: none left
    other = Owner.guest("guest-2")
    await bus.handle(cart.AddCartLine(owner=other, sku="SHOE-1", quantity=1))
    checkout_id = (await bus.handle(co.StartCheckout(owner=other))).id
    await bus.handle(co.SetContact(owner=other, checkout_id=checkout_id, email="b@example.com"))
    await bus.handle(co.SetAddress(owner=other, checkout_id=checkout_id, shipping=BERLIN))
    await bus.handle(co.ChooseShipping(owner=other, checkout_id=checkout_id, method_id="eu-standard"))

    async def pay_with(code: str):
        return await bus.handle(co.StartPayment(owner=other, checkout_id=checkout_id, provider="stripe",
                                                gift_card=code))

    with pytest.raises(GiftCardError, match=r"^this gift card is in USD, the order in EUR$"):
        await pay_with(dollars["code"])
    with pytest.raises(GiftCardError, match=r"^this gift card has no balance left$"):
        await pay_with(spent["code"])
    view = await pay_with(f" {cent['code'].lower()} ")
    assert view.totals["total"] == 5950
    placed = await bus.handle(co.PlaceOrder(owner=other, checkout_id=checkout_id))
    assert (await card_payment_amount(shoes, placed.payment_reference)) == 5950 - 1


async def card_payment_amount(shop, reference: str) -> int:
    return int((await shop.card.retrieve(reference)).amount)


async def _published(bus, rule: str, **limits) -> str:
    from application.promotions import handlers as p
    from application.promotions.ports import Limits

    view = await bus.handle(p.CreatePromotion(terms=p.TermsInput(name="Promo", rule=rule), limits=Limits(**limits)))
    await bus.handle(p.PublishPromotion(promotion_id=view["id"]))
    return str(view["id"])


async def test_the_checkout_view_shows_each_step_and_the_cart_frozen_when_payment_starts(shoes) -> None:
    bus, *_ = shoes
    ten_off = await _published(bus, "when quantity(all) >= 1 then 10% off lines(all)")
    await _published(bus, "when always then free shipping")
    await bus.handle(cart.AddCartLine(owner=GUEST, sku="SHOE-1", quantity=2))
    started = await bus.handle(co.StartCheckout(owner=GUEST))
    assert (started.state, started.next_step, started.currency, started.channel, started.email, started.totals,
            started.lines, started.tax_lines, started.order_id, started.version) == (
        "open", "contact", "EUR", "web", None, None, [], [], None, 1)
    await bus.handle(co.SetContact(owner=GUEST, checkout_id=started.id, email="Ada@Example.com"))
    await bus.handle(co.SetAddress(owner=GUEST, checkout_id=started.id, shipping=BERLIN))
    await bus.handle(co.ChooseShipping(owner=GUEST, checkout_id=started.id, method_id="eu-express"))
    view = await bus.handle(co.StartPayment(owner=GUEST, checkout_id=started.id, provider="stripe"))
    address = {"id": "", "name": "Ada", "line1": "Unter den Linden 1", "line2": "", "city": "BERLIN",
               "postal_code": "10117", "country": "DE", "region": "", "phone": "", "company": ""}
    assert (view.state, view.next_step, view.email, view.shipping_address, view.billing_address,
            view.shipping_method, view.payment_provider, view.order_id, view.version) == (
        "payment", "place", "ada@example.com", address, address, "eu-express", "stripe", None, 5)
    # 2 × 59.50 − 10 % = 107.10; express (9.90) shipped free; VAT included: 10710 × 19/119 = 1710.
    assert view.totals == {"subtotal": 11900, "discount": 1190, "shipping": 0, "tax": 1710, "total": 10710,
                           "prices_include_tax": True}
    [line] = view.lines
    assert {k: v for k, v in line.items() if k not in ("id", "product_id")} == {
        "sku": "SHOE-1", "name": "Shoe", "quantity": 2, "unit_price": 5950, "subtotal": 11900, "discount": 1190,
        "tax": 1710, "total": 10710, "promotions": [{"promotion_id": ten_off, "version": 1, "amount": 1190}],
    }
    assert view.tax_lines == [{"name": "MwSt", "basis_points": 1900, "amount": 1710, "applies_to": line["id"]}]


async def test_an_order_redeems_each_promotion_it_used_once_with_what_it_took_shipping_included(shoes) -> None:
    bus, uow, clock, *_ = shoes
    ten_off = await _published(bus, "when quantity(all) >= 1 then 10% off lines(all)")
    free_shipping = await _published(bus, "when always then free shipping")
    await bus.handle(cart.AddCartLine(owner=GUEST, sku="SHOE-1", quantity=2))
    checkout_id, _ = await ready_to_pay(bus, GUEST, method="eu-express")
    await bus.handle(co.PlaceOrder(owner=GUEST, checkout_id=checkout_id))
    async with uow() as tx:
        usage = {promotion.id: used for promotion, _, used in await tx.promotions.live(clock.now())}
    assert (usage[ten_off].redemptions, usage[ten_off].spent) == (1, {"EUR": 1190})
    assert (usage[free_shipping].redemptions, usage[free_shipping].spent) == (1, {"EUR": 990})


async def test_a_guests_use_of_a_once_per_customer_promotion_is_counted_by_email(shoes) -> None:
    from application.promotions.errors import PromotionExhausted

    bus, uow, *_ = shoes
    await _published(bus, "when quantity(all) >= 1 then 10% off lines(all)", per_customer=1)
    await bus.handle(cart.AddCartLine(owner=GUEST, sku="SHOE-1", quantity=1))
    checkout_id, _ = await ready_to_pay(bus, GUEST, email="ada@example.com")
    await bus.handle(co.PlaceOrder(owner=GUEST, checkout_id=checkout_id))
    again = Owner.guest("ada-again")  # a new guest session, the same address
    await bus.handle(cart.AddCartLine(owner=again, sku="SHOE-1", quantity=1))
    checkout_id, view = await ready_to_pay(bus, again, email="ada@example.com")
    assert view.totals["discount"] == 595  # a guest is not known when the cart is priced
    with pytest.raises(PromotionExhausted):
        await bus.handle(co.PlaceOrder(owner=again, checkout_id=checkout_id))
    other = Owner.guest("bob")
    await bus.handle(cart.AddCartLine(owner=other, sku="SHOE-1", quantity=1))
    checkout_id, _ = await ready_to_pay(bus, other, email="bob@example.com")
    await bus.handle(co.PlaceOrder(owner=other, checkout_id=checkout_id))
    assert len(await all_orders(uow)) == 2


async def test_placing_an_online_order_keeps_its_stock_held_for_the_payment_window(shoes) -> None:
    bus, uow, clock, *_ = shoes
    await bus.handle(cart.AddCartLine(owner=GUEST, sku="SHOE-1", quantity=1))
    checkout_id, _ = await ready_to_pay(bus, GUEST, provider="stripe")
    placed = await bus.handle(co.PlaceOrder(owner=GUEST, checkout_id=checkout_id))
    assert (placed.status, placed.payment_provider, placed.total, placed.currency) == ("pending", "stripe", 5950, "EUR")
    assert placed.client_secret
    assert placed.pay_by is None
    clock.advance(timedelta(minutes=30) - timedelta(seconds=1))  # the checkout's own 10 minutes are long over
    assert (await bus.handle(inv.Reconcile())).expired == 0
    assert await available(uow, "SHOE-1") == 9
    clock.advance(timedelta(seconds=1))
    assert (await bus.handle(inv.Reconcile())).expired == 1
    assert await available(uow, "SHOE-1") == 10


async def test_a_pay_later_order_whose_hold_lapsed_takes_its_units_again_while_they_last(shoes) -> None:
    """Paying later sells the held units in the order's transaction; a hold that lapsed meanwhile is
    taken again if its units are still there (and refused, selling nothing, if they are gone)."""
    bus, uow, clock, *_ = shoes
    await bus.handle(cart.AddCartLine(owner=GUEST, sku="SHOE-1", quantity=1))
    checkout_id, _ = await ready_to_pay(bus, GUEST, provider="manual")
    clock.advance(timedelta(minutes=11))
    assert (await bus.handle(inv.Reconcile())).expired == 1
    assert await available(uow, "SHOE-1") == 10  # the hold is gone, its unit back on the shelf
    placed = await bus.handle(co.PlaceOrder(owner=GUEST, checkout_id=checkout_id))
    assert (placed.status, placed.payment_provider) == ("pending", "manual")
    assert (await available(uow, "SHOE-1"), await committed(uow)) == (9, 1)  # sold once, from the shelf

    late = Owner.guest("late")
    await bus.handle(cart.AddCartLine(owner=late, sku="SHOE-1", quantity=1))
    late_checkout, _ = await ready_to_pay(bus, late, provider="manual")
    clock.advance(timedelta(minutes=11))
    await bus.handle(inv.Reconcile())
    await bus.handle(inv.ReserveStock(reference="someone-faster", lines=[("SHOE-1", 9)]))  # every unit left
    with pytest.raises(OutOfStock):
        await bus.handle(co.PlaceOrder(owner=late, checkout_id=late_checkout))
    assert (await available(uow, "SHOE-1"), await committed(uow)) == (0, 1)
    assert [o.id for o in await all_orders(uow)] == [placed.order_id]


async def test_a_lapsed_hold_taken_again_at_placing_corrects_the_stock_gate() -> None:
    """The gate counts what a cart may still take: the units a lapsed hold gave back, then took again when
    its pay-later order was placed, are counted as gone once more."""
    gate = MemoryStockGate()
    bus, uow, clock, *_ = build_shop(gate=gate)
    await bus.handle(CreateProduct(name="Shoe", sku="SHOE-1", price_amount=5950, currency="EUR", status="active"))
    await stock(bus, "SHOE-1", 10)
    await bus.handle(cart.AddCartLine(owner=GUEST, sku="SHOE-1", quantity=1))
    checkout_id, _ = await ready_to_pay(bus, GUEST, provider="manual")
    clock.advance(timedelta(minutes=11))
    await bus.handle(inv.Reconcile())
    assert gate.counters["SHOE-1"] == 10  # the lapsed unit is back for anyone
    await bus.handle(co.PlaceOrder(owner=GUEST, checkout_id=checkout_id))
    assert gate.counters["SHOE-1"] == await available(uow, "SHOE-1") == 9


async def test_an_online_order_whose_hold_lapsed_before_it_was_placed_is_placed_and_says_so(shoes, caplog) -> None:
    import logging

    bus, uow, clock, *_ = shoes
    await bus.handle(cart.AddCartLine(owner=GUEST, sku="SHOE-1", quantity=1))
    checkout_id, _ = await ready_to_pay(bus, GUEST, provider="stripe")
    clock.advance(timedelta(minutes=11))
    await bus.handle(inv.Reconcile())
    with caplog.at_level(logging.WARNING, logger="application.checkout.place"):
        placed = await bus.handle(co.PlaceOrder(owner=GUEST, checkout_id=checkout_id))
    order = await read_order(uow, placed.order_id)
    assert [r.getMessage() for r in caplog.records if r.name == "application.checkout.place"] == [
        f"reservation {order.reservation_id} closed before payment; the paid event re-reserves"
    ]
    assert placed.status == "pending"


async def test_an_order_paid_in_full_at_placing_names_how_it_was_paid(shop) -> None:
    from application.promotions import handlers as p
    from application.promotions.ports import Limits

    bus, *_ = shop
    await bus.handle(CreateProduct(name="Shoe", sku="SHOE-1", price_amount=5950, currency="EUR", status="active"))
    await stock(bus, "SHOE-1", 10)
    gift = await bus.handle(IssueGiftCard(amount=5950, currency="EUR", actor="staff:1"))
    await bus.handle(cart.AddCartLine(owner=GUEST, sku="SHOE-1", quantity=1))
    checkout_id, _ = await ready_to_pay(bus, GUEST, gift_card=gift["code"])
    by_card = await bus.handle(co.PlaceOrder(owner=GUEST, checkout_id=checkout_id))
    assert (by_card.status, by_card.payment_provider, by_card.payment_reference) == (
        "paid", "giftcard", f"giftcard:{gift['code']}"
    )
    free = await bus.handle(p.CreatePromotion(terms=p.TermsInput(
        name="Free", rule="when quantity(all) >= 1 then 100% off lines(all) and free shipping"), limits=Limits()))
    await bus.handle(p.PublishPromotion(promotion_id=free["id"]))
    other = Owner.guest("guest-free")
    await bus.handle(cart.AddCartLine(owner=other, sku="SHOE-1", quantity=1))
    checkout_id, _ = await ready_to_pay(bus, other, email="free@example.com")
    for_nothing = await bus.handle(co.PlaceOrder(owner=other, checkout_id=checkout_id))
    assert (for_nothing.status, for_nothing.payment_provider, for_nothing.payment_reference, for_nothing.total) == (
        "paid", "none", f"free:{for_nothing.order_id}", 0
    )


async def test_each_checkout_refusal_names_what_is_missing_or_wrong(shoes) -> None:
    from application.checkout.errors import CartHasIssues, CheckoutNotFound, EmptyCart, UnknownPaymentProvider
    from domain.checkout.checkout import CheckoutIncomplete

    bus, uow, *_ = shoes
    with pytest.raises(EmptyCart, match=r"^the cart is empty$"):
        await bus.handle(co.StartCheckout(owner=GUEST))
    await bus.handle(cart.AddCartLine(owner=GUEST, sku="SHOE-1", quantity=1))
    checkout_id = (await bus.handle(co.StartCheckout(owner=GUEST))).id
    with pytest.raises(CheckoutNotFound, match=rf"^no checkout {checkout_id}$"):  # someone else's
        await bus.handle(co.GetCheckout(owner=Owner.guest("someone-else"), checkout_id=checkout_id))
    with pytest.raises(CheckoutNotFound, match=r"^no checkout nope$"):
        await bus.handle(co.GetCheckout(owner=GUEST, checkout_id="nope"))
    await bus.handle(co.SetContact(owner=GUEST, checkout_id=checkout_id, email="ada@example.com"))
    with pytest.raises(CheckoutIncomplete, match=r"^give an address first$"):
        await bus.handle(co.ShippingOptions(owner=GUEST, checkout_id=checkout_id))
    await bus.handle(co.SetAddress(owner=GUEST, checkout_id=checkout_id, shipping=BERLIN))
    with pytest.raises(UnknownPaymentProvider, match=r"^unknown payment provider 'bitcoin'$"):
        await bus.handle(co.StartPayment(owner=GUEST, checkout_id=checkout_id, provider="bitcoin"))
    with pytest.raises(CheckoutIncomplete, match=r"^the shipping step is missing$"):
        await bus.handle(co.StartPayment(owner=GUEST, checkout_id=checkout_id, provider="manual"))
    await bus.handle(co.ChooseShipping(owner=GUEST, checkout_id=checkout_id, method_id="eu-standard"))
    async with uow() as tx:
        [product_id] = await tx.products.product_ids_for_skus(["SHOE-1"])
    await bus.handle(o_catalog.UpdateProduct(product_id=product_id, status="archived"))
    with pytest.raises(CartHasIssues, match=r"^some cart lines are unavailable; review the cart$"):
        await bus.handle(co.StartPayment(owner=GUEST, checkout_id=checkout_id, provider="manual"))
    [line] = (await bus.handle(cart.ViewCart(owner=GUEST))).lines
    await bus.handle(cart.RemoveCartLine(owner=GUEST, line_id=line.id))
    with pytest.raises(EmptyCart, match=r"^the cart of this checkout is empty or gone$"):
        await bus.handle(co.ShippingOptions(owner=GUEST, checkout_id=checkout_id))
    assert await available(uow, "SHOE-1") == 10  # nothing was held on the way


async def test_a_placed_order_keeps_the_checkouts_channel_totals_line_amounts_and_billing_address(shoes) -> None:
    from domain.orders.order import Totals

    bus, uow, *_ = shoes
    billing = Address(name="Ada Corp", line1="Friedrichstraße 100", city="Berlin", postal_code="10117", country="DE")
    checkout_id = await shop_and_checkout(bus)
    await bus.handle(co.SetAddress(owner=GUEST, checkout_id=checkout_id, shipping=BERLIN, billing=billing))
    await bus.handle(co.ChooseShipping(owner=GUEST, checkout_id=checkout_id, method_id="eu-standard"))
    await bus.handle(co.StartPayment(owner=GUEST, checkout_id=checkout_id, provider="manual"))
    order = await read_order(uow, (await bus.handle(co.PlaceOrder(owner=GUEST, checkout_id=checkout_id))).order_id)
    assert order.channel == "web"
    assert order.totals == Totals(currency="EUR", subtotal=11900, discount=0, shipping=0, tax=1900, total=11900,
                                  prices_include_tax=True)
    [line] = order.lines
    assert (line.subtotal, line.discount, line.tax, line.total) == (11900, 0, 1900, 11900)
    assert (order.billing_address.line1, order.shipping_address.line1) == (billing.line1, BERLIN.line1)


async def test_a_pay_later_order_records_its_payment_when_it_is_placed(shoes) -> None:
    bus, uow, clock, *_ = shoes
    await bus.handle(cart.AddCartLine(owner=GUEST, sku="SHOE-1", quantity=1))
    checkout_id, _ = await ready_to_pay(bus, GUEST, provider="manual")
    clock.advance(timedelta(minutes=2))
    placed = await bus.handle(co.PlaceOrder(owner=GUEST, checkout_id=checkout_id))
    order = await read_order(uow, placed.order_id)
    assert [p.reference for p in order.payments] == [placed.payment_reference]
    [started] = [e for e in order.timeline if e.action == "payment_started"]
    assert (started.actor, started.at, started.detail) == ("system", clock.now(), f"manual {placed.payment_reference}")


async def test_a_free_order_is_paid_by_the_system_at_placing_and_answered_with_its_number(shop) -> None:
    from application.promotions import handlers as p
    from application.promotions.ports import Limits

    bus, uow, clock, *_ = shop
    await bus.handle(CreateProduct(name="Shoe", sku="SHOE-1", price_amount=5950, currency="EUR", status="active"))
    await stock(bus, "SHOE-1", 10)
    free = await bus.handle(p.CreatePromotion(terms=p.TermsInput(
        name="Free", rule="when quantity(all) >= 1 then 100% off lines(all) and free shipping"), limits=Limits()))
    await bus.handle(p.PublishPromotion(promotion_id=free["id"]))
    await bus.handle(cart.AddCartLine(owner=GUEST, sku="SHOE-1", quantity=1))
    checkout_id, _ = await ready_to_pay(bus, GUEST)
    clock.advance(timedelta(minutes=3))
    placed = await bus.handle(co.PlaceOrder(owner=GUEST, checkout_id=checkout_id))
    order = await read_order(uow, placed.order_id)
    assert placed.number == order.number
    [paid] = [e for e in order.timeline if e.action == "pay"]
    assert (paid.actor, paid.at, paid.detail) == ("system", clock.now(), f"free:{order.id}")


async def test_placing_a_paid_online_order_again_answers_paid_and_opens_no_payment(shoes) -> None:
    bus, _uow, _clock, card, _ = shoes
    await bus.handle(cart.AddCartLine(owner=GUEST, sku="SHOE-1", quantity=1))
    checkout_id, _ = await ready_to_pay(bus, GUEST, provider="stripe")
    placed = await bus.handle(co.PlaceOrder(owner=GUEST, checkout_id=checkout_id))
    card.succeed(placed.payment_reference)
    await bus.handle(pay.HandlePaymentEvent(provider="stripe", event=event(
        placed.payment_reference, "payment_intent.succeeded", "evt-paid", 5950)))
    again = await bus.handle(co.PlaceOrder(owner=GUEST, checkout_id=checkout_id))
    assert (again.status, again.payment_provider, again.payment_reference, again.client_secret, again.number) == (
        "paid", "stripe", placed.payment_reference, None, placed.number
    )


async def test_one_cent_left_to_pay_after_a_gift_card_is_still_asked_of_the_provider(shoes) -> None:
    bus, _uow, _clock, card, _ = shoes
    gift = await bus.handle(IssueGiftCard(amount=5949, currency="EUR", actor="staff:1"))
    await bus.handle(cart.AddCartLine(owner=GUEST, sku="SHOE-1", quantity=1))
    checkout_id, _ = await ready_to_pay(bus, GUEST, provider="stripe", gift_card=gift["code"])
    placed = await bus.handle(co.PlaceOrder(owner=GUEST, checkout_id=checkout_id))
    assert placed.status == "pending"
    assert (await card.retrieve(placed.payment_reference)).amount == 1


async def test_a_second_checkout_of_a_cart_already_checked_out_places_nothing(shoes) -> None:
    bus, uow, *_ = shoes
    await bus.handle(cart.AddCartLine(owner=GUEST, sku="SHOE-1", quantity=1))
    first, _ = await ready_to_pay(bus, GUEST)
    second, _ = await ready_to_pay(bus, GUEST)  # another tab, the same cart
    await bus.handle(co.PlaceOrder(owner=GUEST, checkout_id=first))
    with pytest.raises(CartChanged):
        await bus.handle(co.PlaceOrder(owner=GUEST, checkout_id=second))
    assert len(await all_orders(uow)) == 1


@pytest.mark.parametrize("provider", ["manual", "stripe"])  # manual: pay later, its units sold at once
async def test_two_checkouts_of_one_cart_placed_at_the_same_moment_make_one_order(shoes, provider) -> None:
    """The cart is retired, version-checked, in the order's own transaction: of two tabs placing the same
    cart at once, one gets the order and the other a conflict; the loser's hold stays a hold."""
    bus, uow, *_ = shoes
    await bus.handle(cart.AddCartLine(owner=GUEST, sku="SHOE-1", quantity=1))
    first, _ = await ready_to_pay(bus, GUEST, provider=provider)
    second, _ = await ready_to_pay(bus, GUEST, provider=provider)  # another tab, the same cart
    outcomes = await asyncio.gather(*(bus.handle(co.PlaceOrder(owner=GUEST, checkout_id=checkout_id))
                                      for checkout_id in (first, second)), return_exceptions=True)
    placed = [o for o in outcomes if not isinstance(o, BaseException)]
    refused = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(placed) == 1
    assert [type(error) for error in refused] in ([ConcurrencyConflict], [CartChanged])
    assert [order.id for order in await all_orders(uow)] == [placed[0].order_id]
    winner = (first, second)[outcomes.index(placed[0])]
    async with uow() as tx:  # the winner's group was rolled back and run again: its checkout is placed all the same
        checkout = await tx.checkouts.get(winner)
    assert (checkout.state, checkout.order_id) == (CheckoutState.PLACED, placed[0].order_id)
    retried = await asyncio.gather(*(bus.handle(co.PlaceOrder(owner=GUEST, checkout_id=checkout_id))
                                     for checkout_id in (first, second)), return_exceptions=True)
    assert sum(not isinstance(o, BaseException) and o.order_id == placed[0].order_id for o in retried) == 1
    assert len(await all_orders(uow)) == 1


async def test_an_order_redeems_what_one_promotion_took_over_all_lines_and_shipping_together(shoes) -> None:
    bus, uow, clock, *_ = shoes
    await bus.handle(CreateProduct(name="Sock", sku="SOCK-1", price_amount=500, currency="EUR", status="active"))
    await stock(bus, "SOCK-1", 10)
    both = await _published(bus, "when quantity(all) >= 1 then 10% off lines(all) and free shipping")
    for sku in ("SHOE-1", "SOCK-1"):
        await bus.handle(cart.AddCartLine(owner=GUEST, sku=sku, quantity=1))
    checkout_id, _ = await ready_to_pay(bus, GUEST, method="eu-express")
    await bus.handle(co.PlaceOrder(owner=GUEST, checkout_id=checkout_id))
    async with uow() as tx:
        [used] = [u for promotion, _, u in await tx.promotions.live(clock.now()) if promotion.id == both]
    assert (used.redemptions, used.spent) == (1, {"EUR": 595 + 50 + 990})


async def test_paid_shipping_is_taxed_as_its_own_line_and_an_order_discount_is_spread_over_the_lines(shoes) -> None:
    bus, *_ = shoes
    await bus.handle(CreateProduct(name="Sock", sku="SOCK-1", price_amount=500, currency="EUR", status="active"))
    await stock(bus, "SOCK-1", 10)
    await _published(bus, "when always then 10.00 EUR off order")
    for sku in ("SHOE-1", "SOCK-1"):
        await bus.handle(cart.AddCartLine(owner=GUEST, sku=sku, quantity=1))
    _, view = await ready_to_pay(bus, GUEST, method="eu-express")
    shoe, sock = view.lines
    assert (shoe["discount"] + sock["discount"], shoe["total"] + sock["total"]) == (1000, 6450 - 1000)
    assert shoe["discount"] > sock["discount"] > 0  # spread by what each line costs
    assert [t["applies_to"] for t in view.tax_lines] == [shoe["id"], sock["id"], "shipping"]
    assert view.totals["shipping"] == 990


async def test_a_gift_card_given_for_a_free_order_is_left_untouched(shop) -> None:
    bus, uow, *_ = shop
    await bus.handle(CreateProduct(name="Shoe", sku="SHOE-1", price_amount=5950, currency="EUR", status="active"))
    await stock(bus, "SHOE-1", 10)
    await _published(bus, "when quantity(all) >= 1 then 100% off lines(all) and free shipping")
    gift = await bus.handle(IssueGiftCard(amount=1000, currency="EUR", actor="staff:1"))
    await bus.handle(cart.AddCartLine(owner=GUEST, sku="SHOE-1", quantity=1))
    checkout_id, view = await ready_to_pay(bus, GUEST, gift_card=gift["code"])
    assert (view.totals["total"], view.lines[0]["tax"]) == (0, 0)
    placed = await bus.handle(co.PlaceOrder(owner=GUEST, checkout_id=checkout_id))
    assert (await read_order(uow, placed.order_id)).gift_card_code is None
    assert (await bus.handle(GetGiftCard(code=gift["code"])))["balance"] == 1000


async def test_changing_the_address_after_payment_started_puts_the_held_units_back(shoes) -> None:
    bus, uow, *_ = shoes
    await bus.handle(cart.AddCartLine(owner=GUEST, sku="SHOE-1", quantity=1))
    checkout_id, _ = await ready_to_pay(bus, GUEST)
    assert await available(uow, "SHOE-1") == 9
    view = await bus.handle(co.SetAddress(owner=GUEST, checkout_id=checkout_id, shipping=BERLIN))
    assert view.state != "payment"
    assert await available(uow, "SHOE-1") == 10


async def test_a_step_refusal_names_the_checkout_or_the_method(shoes) -> None:
    from application.checkout.errors import CheckoutNotFound

    bus, *_ = shoes
    checkout_id = await shop_and_checkout(bus)
    with pytest.raises(CheckoutNotFound, match=rf"^no checkout {checkout_id}$"):
        await bus.handle(co.SetContact(owner=Owner.guest("someone-else"), checkout_id=checkout_id,
                                       email="eve@example.com"))
    with pytest.raises(MethodNotOffered,
                       match=r"^shipping method 'us-ground' is not offered for this address and cart$"):
        await bus.handle(co.ChooseShipping(owner=GUEST, checkout_id=checkout_id, method_id="us-ground"))


async def test_a_placed_checkout_shows_its_order(shoes) -> None:
    bus, *_ = shoes
    await bus.handle(cart.AddCartLine(owner=GUEST, sku="SHOE-1", quantity=1))
    checkout_id, _ = await ready_to_pay(bus, GUEST)
    placed = await bus.handle(co.PlaceOrder(owner=GUEST, checkout_id=checkout_id))
    view = await bus.handle(co.GetCheckout(owner=GUEST, checkout_id=checkout_id))
    assert (view.state, view.order_id) == ("placed", placed.order_id)


# -- what the steps and placing hand on: the moment, the hold, the parcel, the cart as it is now -----------------


async def _checkout_as_stored(uow, checkout_id: str):
    async with uow() as tx:
        return await tx.checkouts.get(checkout_id)


@pytest.mark.parametrize("step", ["contact", "address", "shipping"])
async def test_each_step_taken_again_while_paying_puts_the_held_units_back_and_records_when(shoes, step) -> None:
    bus, uow, clock, *_ = shoes
    await bus.handle(cart.AddCartLine(owner=GUEST, sku="SHOE-1", quantity=1))
    checkout_id, _ = await ready_to_pay(bus, GUEST)
    assert await available(uow, "SHOE-1") == 9
    clock.advance(timedelta(minutes=4))
    again = {
        "contact": co.SetContact(owner=GUEST, checkout_id=checkout_id, email="ada@example.org"),
        "address": co.SetAddress(owner=GUEST, checkout_id=checkout_id, shipping=BERLIN),
        "shipping": co.ChooseShipping(owner=GUEST, checkout_id=checkout_id, method_id="eu-express"),
    }[step]
    view = await bus.handle(again)
    assert (view.state, view.next_step) == ("open", "payment")
    assert await available(uow, "SHOE-1") == 10
    assert await reservations_in_flight(uow=uow) == []
    assert (await _checkout_as_stored(uow, checkout_id)).updated_at == clock.now()


async def test_shipping_is_quoted_for_the_goods_after_discounts_and_the_weight_of_every_unit_for_sale(shop) -> None:
    bus, *_ = shop
    boot = await bus.handle(CreateProduct(name="Boot", sku="BOOT-1", price_amount=2750, currency="EUR",
                                          status="active"))
    await bus.handle(o_catalog.UpdateVariant(product_id=boot, sku="BOOT-1", weight_grams=600))
    anvil = await bus.handle(CreateProduct(name="Anvil", sku="ANVIL-1", price_amount=9900, currency="EUR",
                                           status="active"))
    await bus.handle(o_catalog.UpdateVariant(product_id=anvil, sku="ANVIL-1", weight_grams=30000))
    await stock(bus, "BOOT-1", 10)
    await stock(bus, "ANVIL-1", 10)
    await _published(bus, "when quantity(all) >= 1 then 10% off lines(all)")
    checkout_id = await shop_and_checkout(bus, skus=(("BOOT-1", 2), ("ANVIL-1", 1)))
    await bus.handle(o_catalog.UpdateProduct(product_id=anvil, status="archived"))  # in the cart, not for sale
    options = await bus.handle(co.ShippingOptions(owner=GUEST, checkout_id=checkout_id))
    # 2 × 27.50 − 10 % = 49.50 of goods: under the 50.00 that ships standard for free; 2 × 600 g by express.
    assert [(o.id, o.amount) for o in options] == [("eu-standard", 490), ("eu-express", 1490)]
    [archived] = [line for line in (await bus.handle(cart.ViewCart(owner=GUEST))).lines if line.sku == "ANVIL-1"]
    await bus.handle(cart.RemoveCartLine(owner=GUEST, line_id=archived.id))
    await bus.handle(co.ChooseShipping(owner=GUEST, checkout_id=checkout_id, method_id="eu-express"))
    view = await bus.handle(co.StartPayment(owner=GUEST, checkout_id=checkout_id, provider="manual"))
    assert (view.totals["shipping"], view.totals["total"]) == (1490, 4950 + 1490)


class CacheThatWentDown(MemoryCartCache):
    """A cart cache that, once down, can neither take a newer cart nor forget the one it holds: its reads
    keep answering the cart as it was."""

    down = False

    async def put(self, cart, *, ttl_seconds: int) -> None:
        if self.down:
            raise ConnectionError("cache down")
        await super().put(cart, ttl_seconds=ttl_seconds)

    async def forget(self, cart_id: str) -> None:
        if self.down:
            raise ConnectionError("cache down")
        await super().forget(cart_id)


async def test_placing_reads_the_cart_as_saved_not_a_stale_cached_copy() -> None:
    cache = CacheThatWentDown()
    bus, uow, *_ = build_shop(lambda clock, db: LayeredCartStore(MemoryDurableCarts(db), cache, clock))
    await bus.handle(CreateProduct(name="Shoe", sku="SHOE-1", price_amount=5950, currency="EUR", status="active"))
    await stock(bus, "SHOE-1", 10)
    await bus.handle(cart.AddCartLine(owner=GUEST, sku="SHOE-1", quantity=1))
    checkout_id, _ = await ready_to_pay(bus, GUEST)
    cache.down = True
    await bus.handle(cart.AddCartLine(owner=GUEST, sku="SHOE-1", quantity=1))  # saved; the cache still has 1
    with pytest.raises(CartChanged):
        await bus.handle(co.PlaceOrder(owner=GUEST, checkout_id=checkout_id))
    assert await all_orders(uow) == []


class RivalPlacesMeanwhile(LayeredCartStore):
    """Reading the cart to place a checkout, this request is overtaken: ``rival`` (another request placing
    the same checkout) runs to the end between the read and what this one does with it."""

    rival = None

    async def get(self, cart_id: str, *, fresh: bool = False):
        found = await super().get(cart_id, fresh=fresh)
        rival, self.rival = self.rival, None
        if rival is not None:
            await rival()
        return found


async def test_a_place_that_loses_the_race_answers_with_the_winners_order_and_payment() -> None:
    stores: list[RivalPlacesMeanwhile] = []

    def racing_store(clock, db):
        stores.append(RivalPlacesMeanwhile(MemoryDurableCarts(db), MemoryCartCache(), clock))
        return stores[0]

    bus, uow, _clock, card, _ = build_shop(racing_store)
    await bus.handle(CreateProduct(name="Shoe", sku="SHOE-1", price_amount=5950, currency="EUR", status="active"))
    await stock(bus, "SHOE-1", 10)
    await bus.handle(cart.AddCartLine(owner=GUEST, sku="SHOE-1", quantity=1))
    checkout_id, _ = await ready_to_pay(bus, GUEST, provider="stripe")
    won = []

    async def rival() -> None:
        won.append(await bus.handle(co.PlaceOrder(owner=GUEST, checkout_id=checkout_id)))

    stores[0].rival = rival
    lost = await bus.handle(co.PlaceOrder(owner=GUEST, checkout_id=checkout_id))
    [winner] = won
    assert (lost.order_id, lost.number, lost.status, lost.payment_reference) == (
        winner.order_id, winner.number, "pending", winner.payment_reference)
    assert [order.id for order in await all_orders(uow)] == [winner.order_id]
    assert (await card.retrieve(winner.payment_reference)).amount == 5950


async def test_placing_retires_the_cart_at_that_moment() -> None:
    stores: list[LayeredCartStore] = []

    def kept(clock, db):
        stores.append(default_cart_store(clock, db))
        return stores[0]

    bus, _uow, clock, *_ = build_shop(kept)
    await bus.handle(CreateProduct(name="Shoe", sku="SHOE-1", price_amount=5950, currency="EUR", status="active"))
    await stock(bus, "SHOE-1", 10)
    await bus.handle(cart.AddCartLine(owner=GUEST, sku="SHOE-1", quantity=1))
    checkout_id, _ = await ready_to_pay(bus, GUEST)
    clock.advance(timedelta(minutes=7))
    await bus.handle(co.PlaceOrder(owner=GUEST, checkout_id=checkout_id))
    retired = await stores[0].get(GUEST.id, fresh=True)
    assert (retired.retired, retired.updated_at) == (True, clock.now())


async def test_paying_and_placing_record_when_the_checkout_last_changed(shoes) -> None:
    bus, uow, clock, *_ = shoes
    await bus.handle(cart.AddCartLine(owner=GUEST, sku="SHOE-1", quantity=1))
    started = await bus.handle(co.StartCheckout(owner=GUEST))
    assert (await _checkout_as_stored(uow, started.id)).created_at == clock.now()
    clock.advance(timedelta(minutes=2))
    checkout_id, _ = await ready_to_pay(bus, GUEST)
    assert (await _checkout_as_stored(uow, checkout_id)).updated_at == clock.now()
    clock.advance(timedelta(minutes=3))
    await bus.handle(co.PlaceOrder(owner=GUEST, checkout_id=checkout_id))
    assert (await _checkout_as_stored(uow, checkout_id)).updated_at == clock.now()


async def test_a_customers_checkout_starts_with_their_email_and_asks_for_the_address_first(shoes) -> None:
    bus, *_ = shoes
    alice = await _alice_with_a_shoe(bus)
    view = await bus.handle(co.StartCheckout(owner=alice))
    assert (view.email, view.next_step) == ("alice@example.com", "address")


async def test_a_checkout_whose_cart_was_checked_out_by_another_is_refused_not_priced_with_a_new_cart(shoes) -> None:
    from application.checkout.errors import EmptyCart
    bus, uow, *_ = shoes
    alice = await _alice_with_a_shoe(bus)
    first, _ = await ready_to_pay(bus, alice, email="alice@example.com")
    second = (await bus.handle(co.StartCheckout(owner=alice))).id  # another tab, the same cart
    await bus.handle(co.SetAddress(owner=alice, checkout_id=second, shipping=BERLIN))
    await bus.handle(co.PlaceOrder(owner=alice, checkout_id=first))
    await bus.handle(cart.AddCartLine(owner=alice, sku="SHOE-1", quantity=3))  # a new cart, not the second's
    for query in (co.ShippingOptions(owner=alice, checkout_id=second),
                  co.ChooseShipping(owner=alice, checkout_id=second, method_id="eu-standard")):
        with pytest.raises(EmptyCart, match=r"^the cart of this checkout is empty or gone$"):
            await bus.handle(query)
    # A guest's cart, once checked out, is gone for the other checkout of it.
    await bus.handle(cart.AddCartLine(owner=GUEST, sku="SHOE-1", quantity=1))
    paid, _ = await ready_to_pay(bus, GUEST)
    other = (await bus.handle(co.StartCheckout(owner=GUEST))).id
    await bus.handle(co.SetContact(owner=GUEST, checkout_id=other, email="ada@example.com"))
    await bus.handle(co.SetAddress(owner=GUEST, checkout_id=other, shipping=BERLIN))
    await bus.handle(co.PlaceOrder(owner=GUEST, checkout_id=paid))
    with pytest.raises(EmptyCart, match=r"^the cart of this checkout is empty or gone$"):
        await bus.handle(co.ShippingOptions(owner=GUEST, checkout_id=other))
    assert len(await all_orders(uow)) == 2


async def test_a_gift_card_pays_an_order_of_one_cent(shop) -> None:
    bus, uow, *_ = shop
    await bus.handle(CreateProduct(name="Pin", sku="PIN-1", price_amount=1, currency="EUR", status="active"))
    await stock(bus, "PIN-1", 10)
    await _published(bus, "when always then free shipping")
    gift = await bus.handle(IssueGiftCard(amount=1000, currency="EUR", actor="staff:1"))
    await bus.handle(cart.AddCartLine(owner=GUEST, sku="PIN-1", quantity=1))
    checkout_id, view = await ready_to_pay(bus, GUEST, gift_card=gift["code"])
    assert view.totals["total"] == 1
    placed = await bus.handle(co.PlaceOrder(owner=GUEST, checkout_id=checkout_id))
    assert (placed.status, placed.payment_provider, placed.total, placed.currency) == ("paid", "giftcard", 1, "EUR")
    assert (await read_order(uow, placed.order_id)).gift_card_amount == 1
    assert (await bus.handle(GetGiftCard(code=gift["code"])))["balance"] == 999


async def test_paying_with_a_shipping_method_the_cart_has_outgrown_is_refused_until_another_is_chosen(shop) -> None:
    bus, uow, *_ = shop
    crate = await bus.handle(CreateProduct(name="Crate", sku="CRATE-1", price_amount=2000, currency="EUR",
                                           status="active"))
    await bus.handle(o_catalog.UpdateVariant(product_id=crate, sku="CRATE-1", weight_grams=8000))
    await stock(bus, "CRATE-1", 10)
    checkout_id = await shop_and_checkout(bus, skus=(("CRATE-1", 1),))
    await bus.handle(co.ChooseShipping(owner=GUEST, checkout_id=checkout_id, method_id="eu-express"))
    await bus.handle(cart.AddCartLine(owner=GUEST, sku="CRATE-1", quantity=2))  # 24 kg: express carries 20
    with pytest.raises(MethodNotOffered,
                       match=r"^the chosen shipping method is no longer offered for this cart; choose again$"):
        await bus.handle(co.StartPayment(owner=GUEST, checkout_id=checkout_id, provider="manual"))
    assert await available(uow, "CRATE-1") == 10
    await bus.handle(co.ChooseShipping(owner=GUEST, checkout_id=checkout_id, method_id="eu-standard"))
    view = await bus.handle(co.StartPayment(owner=GUEST, checkout_id=checkout_id, provider="manual"))
    assert (view.totals["shipping"], view.totals["total"]) == (0, 6000)


class RatesWithRival(TableShippingRates):
    """The seeded rates; while a step asks them, ``rival`` (another request) runs to its end once."""

    rival = None

    async def options(self, **parcel):
        rival, self.rival = self.rival, None
        if rival is not None:
            await rival()
        return await super().options(**parcel)


@pytest.mark.parametrize("step", ["address", "shipping"])
async def test_a_step_overtaken_by_another_is_applied_again_to_the_checkout_as_the_other_left_it(step) -> None:
    rates = RatesWithRival()
    bus, *_ = build_shop(shipping=rates)
    await bus.handle(CreateProduct(name="Shoe", sku="SHOE-1", price_amount=5950, currency="EUR", status="active"))
    await stock(bus, "SHOE-1", 10)
    checkout_id = await shop_and_checkout(bus, skus=(("SHOE-1", 1),))
    await bus.handle(co.ChooseShipping(owner=GUEST, checkout_id=checkout_id, method_id="eu-standard"))

    async def rival() -> None:
        await bus.handle(co.SetContact(owner=GUEST, checkout_id=checkout_id, email="ada@example.org"))

    rates.rival = rival
    moved = replace(BERLIN, line1="Karl-Marx-Allee 2")
    change = {
        "address": co.SetAddress(owner=GUEST, checkout_id=checkout_id, shipping=moved),
        "shipping": co.ChooseShipping(owner=GUEST, checkout_id=checkout_id, method_id="eu-express"),
    }[step]
    view = await bus.handle(change)
    assert view.email == "ada@example.org"  # the rival's change is kept
    assert (view.shipping_address["line1"], view.shipping_method) == {
        "address": ("Karl-Marx-Allee 2", "eu-standard"), "shipping": (BERLIN.line1, "eu-express"),
    }[step]
    assert view.version == 6  # started, three steps, the rival's change and this one


async def test_an_address_in_a_region_no_zone_covers_is_refused_when_it_is_given() -> None:
    california_only = ShippingTable(
        zones=(Zone(id="ca", name="California", countries=frozenset({"US"}), regions=frozenset({"US-CA"})),),
        methods=(Method(id="ca-ground", name="Ground", zone_id="ca", currency="USD", kind=RateKind.FLAT, amount=500),),
    )
    bus, *_ = build_shop(shipping=TableShippingRates(california_only))
    await bus.handle(CreateProduct(name="Shoe", sku="SHOE-US", price_amount=4999, currency="USD", status="active"))
    await stock(bus, "SHOE-US", 5)
    checkout_id = await shop_and_checkout(bus, address=CALIFORNIA, channel="us", skus=(("SHOE-US", 1),))
    with pytest.raises(UnsupportedDestination, match=r"^we do not ship to US$"):
        await bus.handle(co.SetAddress(owner=GUEST, checkout_id=checkout_id, shipping=replace(
            CALIFORNIA, line1="1 Broadway", city="New York", postal_code="10004", region="NY")))
    view = await bus.handle(co.GetCheckout(owner=GUEST, checkout_id=checkout_id))
    assert view.shipping_address["region"] == "CA"


async def test_paying_for_a_sku_the_stock_gate_had_not_counted_yet_leaves_it_counted() -> None:
    gate = MemoryStockGate()
    bus, uow, *_ = build_shop(gate=gate)
    await bus.handle(CreateProduct(name="Shoe", sku="SHOE-1", price_amount=5950, currency="EUR", status="active"))
    await stock(bus, "SHOE-1", 10)
    await bus.handle(cart.AddCartLine(owner=GUEST, sku="SHOE-1", quantity=1))
    await gate.refill({"SHOE-1": None})  # the gate's store restarted empty: it knows nothing of SHOE-1
    assert await gate.short({"SHOE-1": 11}) == []
    await ready_to_pay(bus, GUEST)
    assert (await gate.short({"SHOE-1": 10}), await gate.short({"SHOE-1": 9})) == (["SHOE-1"], [])
    assert await available(uow, "SHOE-1") == 9


async def test_a_payment_grouped_with_one_whose_checkout_changed_meanwhile_still_starts() -> None:
    from domain.shared.errors import ConcurrencyConflict

    rates = RatesWithRival()
    bus, uow, *_ = build_shop(shipping=rates)
    await bus.handle(CreateProduct(name="Shoe", sku="SHOE-1", price_amount=5950, currency="EUR", status="active"))
    await stock(bus, "SHOE-1", 10)
    bob = Owner.guest("bob")
    checkouts = {}
    for owner in (GUEST, bob):
        await bus.handle(cart.AddCartLine(owner=owner, sku="SHOE-1", quantity=1))
        checkouts[owner] = (await bus.handle(co.StartCheckout(owner=owner))).id
        await bus.handle(co.SetContact(owner=owner, checkout_id=checkouts[owner], email=f"{owner.id}@example.com"))
        await bus.handle(co.SetAddress(owner=owner, checkout_id=checkouts[owner], shipping=BERLIN))
        await bus.handle(co.ChooseShipping(owner=owner, checkout_id=checkouts[owner], method_id="eu-standard"))

    async def rival() -> None:  # the shopper changes the e-mail address in another tab while paying
        await bus.handle(co.SetContact(owner=GUEST, checkout_id=checkouts[GUEST], email="ada@example.org"))

    rates.rival = rival
    changed, paying = await asyncio.gather(
        bus.handle(co.StartPayment(owner=GUEST, checkout_id=checkouts[GUEST], provider="manual")),
        bus.handle(co.StartPayment(owner=bob, checkout_id=checkouts[bob], provider="manual")),
        return_exceptions=True,
    )
    assert isinstance(changed, ConcurrencyConflict)  # priced before the change: paid for nothing
    assert (paying.state, paying.next_step) == ("payment", "place")
    [hold] = await reservations_in_flight(uow=uow)
    assert (await _checkout_as_stored(uow, checkouts[bob])).reservation_id == hold.id
    stale = await _checkout_as_stored(uow, checkouts[GUEST])
    assert (stale.state.value, stale.email, stale.reservation_id) == ("open", "ada@example.org", None)
    assert await available(uow, "SHOE-1") == 9


class DownAtFirst(MemoryPaymentGateway):
    """The card provider, unreachable while ``down``."""

    down = False

    async def create(self, request: PaymentRequest):
        if self.down:
            raise PaymentError("the provider is unreachable")
        return await super().create(request)


async def test_placing_again_an_order_cancelled_before_any_payment_was_opened_answers_without_one() -> None:
    card = DownAtFirst("whsec_test")
    bus, uow, *_ = build_shop(card=card)
    await bus.handle(CreateProduct(name="Shoe", sku="SHOE-1", price_amount=5950, currency="EUR", status="active"))
    await stock(bus, "SHOE-1", 10)
    await bus.handle(cart.AddCartLine(owner=GUEST, sku="SHOE-1", quantity=1))
    checkout_id, _ = await ready_to_pay(bus, GUEST, provider="stripe")
    card.down = True
    with pytest.raises(PaymentError):
        await bus.handle(co.PlaceOrder(owner=GUEST, checkout_id=checkout_id))
    [order] = await all_orders(uow)
    assert (order.status, order.payments) == (OrderStatus.PENDING, [])
    await bus.handle(o.CancelOrder(order_id=order.id, actor="staff:1", reason="never paid"))
    card.down = False
    again = await bus.handle(co.PlaceOrder(owner=GUEST, checkout_id=checkout_id))
    assert (again.order_id, again.status, again.payment_provider, again.payment_reference) == (
        order.id, "cancelled", "stripe", None)


async def test_a_place_whose_cart_was_merged_away_at_sign_in_meanwhile_places_nothing() -> None:
    """The lines moved into the customer's cart: placing the guest's order as well would sell them twice
    over. The order, the placed checkout and the retired cart are one transaction: none of it is written,
    and the retry is told the cart changed."""
    from application.customers.handlers import RegisterCustomer

    stores: list[RivalPlacesMeanwhile] = []

    def racing_store(clock, db):
        stores.append(RivalPlacesMeanwhile(MemoryDurableCarts(db), MemoryCartCache(), clock))
        return stores[0]

    bus, uow, *_ = build_shop(racing_store)
    await bus.handle(CreateProduct(name="Shoe", sku="SHOE-1", price_amount=5950, currency="EUR", status="active"))
    await stock(bus, "SHOE-1", 10)
    registered = await bus.handle(RegisterCustomer(email="ada@example.com", password="correct horse 42",
                                                   name="Ada"))
    await bus.handle(cart.AddCartLine(owner=GUEST, sku="SHOE-1", quantity=1))
    checkout_id, _ = await ready_to_pay(bus, GUEST)

    async def sign_in() -> None:  # another tab signs in: the guest cart moves into the customer's and retires
        await bus.handle(cart.MergeGuestCart(guest=GUEST, customer=Owner.customer(registered.id)))

    stores[0].rival = sign_in
    with pytest.raises(ConcurrencyConflict):
        await bus.handle(co.PlaceOrder(owner=GUEST, checkout_id=checkout_id))
    with pytest.raises(CartChanged):
        await bus.handle(co.PlaceOrder(owner=GUEST, checkout_id=checkout_id))
    assert await all_orders(uow) == []
    async with uow() as tx:
        assert (await tx.checkouts.get(checkout_id)).order_id is None
    merged = await bus.handle(cart.ViewCart(owner=Owner.customer(registered.id)))
    assert [(line.sku, line.quantity) for line in merged.lines] == [("SHOE-1", 1)]


class OrderLevelPromotions(StoredPromotions):
    """The stored promotions, answering what they take off the lines as discounts on the order (an
    adjustment without a line: the engine port allows it)."""

    async def apply(self, request):
        outcome = await super().apply(request)
        return replace(outcome, adjustments=tuple(replace(a, line_id=None) for a in outcome.adjustments))


async def test_a_discount_on_the_whole_order_is_spread_over_the_lines_tax_bases() -> None:
    bus, *_ = build_shop(promotions=lambda uow: OrderLevelPromotions(uow, CatalogSnapshot(uow)))
    for name, sku, price in (("Shoe", "SHOE-1", 5950), ("Sock", "SOCK-1", 500)):
        await bus.handle(CreateProduct(name=name, sku=sku, price_amount=price, currency="EUR", status="active"))
        await stock(bus, sku, 10)
        await bus.handle(cart.AddCartLine(owner=GUEST, sku=sku, quantity=1))
    await _published(bus, "when always then 10.00 EUR off order")
    _, view = await ready_to_pay(bus, GUEST, method="eu-express")
    shoe, sock = view.lines
    # 10.00 split 5950 : 500 without losing a cent: 922.48 → 922 and 77.52 → 78.
    assert [(line["discount"], line["total"]) for line in (shoe, sock)] == [(922, 5950 - 922), (78, 500 - 78)]
    assert [t["amount"] for t in view.tax_lines] == [803, 67, 158]  # 19/119 of 5028, 422 and the 990 shipping
    assert (view.totals["discount"], view.totals["total"]) == (1000, 6450 - 1000 + 990)
