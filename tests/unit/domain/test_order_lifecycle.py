"""The order: every transition's guard, timeline entry and event, field by field.

The timeline is the support team's record of what happened to an order, so each entry's actor, action,
from/to status and detail are pinned here, as are the fields of every event the order records.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.orders.order import (
    AppliedPromotion,
    Fulfilment,
    InvalidTransition,
    Order,
    OrderLine,
    OrderPaid,
    OrderPlaced,
    OrderRefunded,
    OrderStatus,
    OrderStatusChanged,
    PaymentRecord,
    RefundRecord,
    RefundTooLarge,
    TimelineEntry,
    Totals,
)
from domain.shared.address import Address
from domain.shared.errors import InvalidInput

S = OrderStatus
T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
T1 = T0 + timedelta(hours=1)
T2 = T0 + timedelta(hours=2)
T3 = T0 + timedelta(hours=3)
T4 = T0 + timedelta(hours=4)
HOME = Address(name="Ada", line1="1 Main St", city="Berlin", postal_code="10117", country="DE")


def new_order(*, gift_card_amount: int = 0, customer_id: str | None = "cus-1", provider: str = "stripe") -> Order:
    return Order.place(
        actor="customer:ada", now=T0, id="o1", number="EM-1", checkout_id="co-1", customer_id=customer_id,
        email="ada@example.com", channel="web",
        lines=(
            OrderLine(id="l1", sku="SHOE", product_id="p1", name="Shoe", quantity=2, unit_price=500, subtotal=1000,
                      discount=100, tax=144, total=900,
                      promotions=(AppliedPromotion(promotion_id="promo-a", version=3, amount=100),)),
            OrderLine(id="l2", sku="SOCK", product_id="p2", name="Sock", quantity=1, unit_price=300, subtotal=300,
                      discount=0, tax=48, total=300),
        ),
        tax_lines=(), totals=Totals(currency="EUR", subtotal=1300, discount=100, shipping=490, tax=270, total=1690,
                                    prices_include_tax=True),
        shipping_address=HOME, billing_address=HOME, shipping_method="dhl", payment_provider=provider,
        gift_card_code="GC-1" if gift_card_amount else None, gift_card_amount=gift_card_amount,
    )


def paid(*, gift_card_amount: int = 0) -> Order:
    order = new_order(gift_card_amount=gift_card_amount)
    order.pay(reference="pi_1", amount=1690 - gift_card_amount, now=T1, actor="stripe")
    order.pull_events()
    return order


def fulfilled() -> Order:
    order = paid()
    order.fulfil(fulfilment_id="f1", lines={"l1": 2, "l2": 1}, now=T2, actor="staff:bo")
    order.pull_events()
    return order


def last(order: Order) -> TimelineEntry:
    return order.timeline[-1]


# -- placing --------------------------------------------------------------------------------------


def test_placing_logs_the_total_and_records_every_figure_of_the_order() -> None:
    order = new_order()
    assert (order.status, order.version, order.placed_at) == (S.PENDING, 1, T0)
    assert order.timeline == [TimelineEntry(at=T0, actor="customer:ada", action="placed", from_status=None,
                                            to_status="pending", detail="total 1690")]
    assert order.pull_events() == [OrderPlaced(
        aggregate_id="o1", aggregate_version=1, occurred_at=T0, customer_id="cus-1", currency="EUR",
        status="pending", email="ada@example.com", checkout_id="co-1", total=1690, subtotal=1300, discount=100,
        shipping=490, tax=270, lines=(("SHOE", 2, 900), ("SOCK", 1, 300)), promotions=(("promo-a", 3, 100),),
    )]


def test_event_topics_are_versioned_and_stable() -> None:
    assert OrderPlaced.topic == "orders.order_placed.v1"
    assert OrderPaid.topic == "orders.order_paid.v1"
    assert OrderStatusChanged.topic == "orders.order_status_changed.v1"
    assert OrderRefunded.topic == "orders.order_refunded.v1"


def test_a_guest_order_carries_no_customer_in_its_events() -> None:
    (event,) = new_order(customer_id=None).pull_events()
    assert isinstance(event, OrderPlaced)
    assert event.customer_id is None


# -- payment ----------------------------------------------------------------------------------------


def test_attaching_a_payment_logs_it_once_without_moving_the_order() -> None:
    order = new_order(provider="manual")
    order.attach_payment(provider="stripe", reference="pi_1", now=T1, actor="checkout")
    assert order.payment_provider == "stripe"
    assert order.payments == [PaymentRecord(provider="stripe", reference="pi_1", amount=1690, status="pending")]
    assert (order.status, order.version) == (S.PENDING, 2)
    assert last(order) == TimelineEntry(at=T1, actor="checkout", action="payment_started", from_status="pending",
                                        to_status="pending", detail="stripe pi_1")
    order.attach_payment(provider="stripe", reference="pi_1", now=T2, actor="checkout")
    assert (len(order.payments), order.version, len(order.timeline)) == (1, 2, 2)
    assert order.has_payment("pi_1")
    assert not order.has_payment("pi_2")


def test_paying_captures_the_amount_logs_the_reference_and_records_both_events() -> None:
    order = new_order()
    order.pull_events()
    order.attach_payment(provider="stripe", reference="pi_1", now=T1, actor="checkout")
    assert order.pay(reference="pi_1", amount=1690, now=T2, actor="stripe") is True
    assert (order.status, order.captured, order.version) == (S.PAID, 1690, 3)
    assert order.payments == [PaymentRecord(provider="stripe", reference="pi_1", amount=1690, status="succeeded")]
    assert last(order) == TimelineEntry(at=T2, actor="stripe", action="pay", from_status="pending",
                                        to_status="paid", detail="pi_1")
    base = {"aggregate_id": "o1", "aggregate_version": 3, "occurred_at": T2, "customer_id": "cus-1",
            "currency": "EUR", "status": "paid"}
    assert order.pull_events() == [
        OrderStatusChanged(**base, from_status="pending", action="pay"),
        OrderPaid(**base, amount=1690, payment_reference="pi_1"),
    ]


def test_the_same_payment_reported_again_changes_nothing() -> None:
    order = paid()
    before = (order.version, len(order.timeline), list(order.payments))
    assert order.pay(reference="pi_1", amount=1690, now=T2, actor="stripe") is False
    assert (order.version, len(order.timeline), order.payments) == before
    assert order.pull_events() == []


def test_a_pending_payment_record_does_not_count_as_paid() -> None:
    order = new_order()
    order.attach_payment(provider="stripe", reference="pi_1", now=T1, actor="checkout")
    assert order.pay(reference="pi_1", amount=1690, now=T2, actor="stripe") is True
    assert [p.status for p in order.payments] == ["succeeded"]


@pytest.mark.parametrize("amount", [1689, 1691, 0])
def test_a_payment_must_match_the_amount_due_to_the_unit(amount: int) -> None:
    order = new_order()
    with pytest.raises(InvalidInput, match=fr"^payment of {amount} does not match the 1690 due$"):
        order.pay(reference="pi_1", amount=amount, now=T1, actor="stripe")
    assert (order.status, order.captured, order.payments) == (S.PENDING, 0, [])


def test_a_gift_card_share_is_not_due_from_the_provider_but_counts_as_captured() -> None:
    order = new_order(gift_card_amount=690)
    with pytest.raises(InvalidInput, match=r"the 1000 due"):
        order.pay(reference="pi_1", amount=1690, now=T1, actor="stripe")
    order.pay(reference="pi_1", amount=1000, now=T1, actor="stripe")
    assert order.captured == 1690
    assert order.refundable == 1690
    assert order.refundable_online == 1000


def test_a_failed_payment_while_pending_is_logged_with_its_reason() -> None:
    order = new_order()
    assert order.payment_failed(reference="pi_1", now=T1, actor="stripe", reason="card declined") is True
    assert order.version == 2
    assert last(order) == TimelineEntry(at=T1, actor="stripe", action="payment_failed", from_status="pending",
                                        to_status="pending", detail="pi_1 card declined")
    order.payment_failed(reference="pi_2", now=T2, actor="stripe")
    assert last(order).detail == "pi_2"


def test_a_stale_payment_failure_after_payment_changes_nothing() -> None:
    order = paid()
    before = (order.version, len(order.timeline))
    assert order.payment_failed(reference="pi_0", now=T2, actor="stripe", reason="late") is False
    assert (order.status, order.version, len(order.timeline)) == (S.PAID, *before)


def test_a_note_logs_without_changing_the_status() -> None:
    order = paid()
    version = order.version
    order.note(action="orphan_payment_refunded", detail="pi_9 1690 -> re_9", now=T2, actor="system")
    assert order.version == version + 1
    assert last(order) == TimelineEntry(at=T2, actor="system", action="orphan_payment_refunded",
                                        from_status="paid", to_status="paid", detail="pi_9 1690 -> re_9")
    assert order.noted("orphan_payment_refunded")
    assert not order.noted("stock_lost")


# -- cancelling and refunding -----------------------------------------------------------------------


def test_cancelling_a_pending_order_logs_the_reason() -> None:
    order = new_order()
    order.pull_events()
    order.cancel(now=T1, actor="staff:bo", reason="customer asked")
    assert (order.status, order.refunds) == (S.CANCELLED, [])
    assert last(order) == TimelineEntry(at=T1, actor="staff:bo", action="cancel", from_status="pending",
                                        to_status="cancelled", detail="customer asked")
    assert order.pull_events() == [OrderStatusChanged(
        aggregate_id="o1", aggregate_version=2, occurred_at=T1, customer_id="cus-1", currency="EUR",
        status="cancelled", from_status="pending", action="cancel")]


def test_cancelling_a_paid_order_refunds_everything_captured() -> None:
    order = paid()
    with pytest.raises(InvalidTransition, match=r"full refund"):
        order.cancel(now=T2, actor="staff:bo", reason="asked")
    assert (order.status, order.refunds) == (S.PAID, [])
    order.cancel(now=T2, actor="staff:bo", reason="asked", refund_reference="re_1")
    assert order.status is S.CANCELLED
    assert order.refunds == [RefundRecord(reference="re_1", amount=1690, reason="asked", at=T2)]
    assert last(order) == TimelineEntry(at=T2, actor="staff:bo", action="cancel", from_status="paid",
                                        to_status="cancelled", detail="refunded 1690: asked")
    base = {"aggregate_id": "o1", "aggregate_version": 3, "occurred_at": T2, "customer_id": "cus-1",
            "currency": "EUR", "status": "cancelled"}
    assert order.pull_events() == [
        OrderStatusChanged(**base, from_status="paid", action="cancel"),
        OrderRefunded(**base, amount=1690, refund_reference="re_1"),
    ]


@pytest.mark.parametrize("status", [S.FULFILLED, S.CANCELLED])
def test_only_pending_and_paid_orders_cancel(status: OrderStatus) -> None:
    order = fulfilled() if status is S.FULFILLED else new_order()
    if status is S.CANCELLED:
        order.cancel(now=T1, actor="staff", reason="x")
    with pytest.raises(InvalidTransition, match=fr"^cannot cancel an order that is {status.value}$"):
        order.cancel(now=T2, actor="staff", reason="again", refund_reference="re_x")


def test_a_partial_refund_logs_amount_and_reason_and_records_the_refund() -> None:
    order = paid()
    order.refund(amount=400, reference="re_1", reason="scuffed", now=T2, actor="staff:bo")
    assert (order.status, order.refunded, order.refundable) == (S.PARTIALLY_REFUNDED, 400, 1290)
    assert order.refunds == [RefundRecord(reference="re_1", amount=400, reason="scuffed", at=T2)]
    assert last(order) == TimelineEntry(at=T2, actor="staff:bo", action="refund", from_status="paid",
                                        to_status="partially_refunded", detail="400 scuffed")
    base = {"aggregate_id": "o1", "aggregate_version": 3, "occurred_at": T2, "customer_id": "cus-1",
            "currency": "EUR", "status": "partially_refunded"}
    assert order.pull_events() == [
        OrderStatusChanged(**base, from_status="paid", action="refund"),
        OrderRefunded(**base, amount=400, refund_reference="re_1"),
    ]


def test_refunding_the_last_unit_ends_refunded() -> None:
    order = paid()
    order.refund(amount=1689, reference="re_1", reason="most", now=T2, actor="staff")
    assert order.status is S.PARTIALLY_REFUNDED
    order.refund(amount=1, reference="re_2", reason="rest", now=T3, actor="staff")
    assert (order.status, order.refundable) == (S.REFUNDED, 0)


def test_a_refund_of_zero_or_less_is_refused() -> None:
    order = paid()
    for amount in (0, -1):
        with pytest.raises(InvalidInput, match=r"^a refund is a positive amount$"):
            order.refund(amount=amount, reference=f"re_{amount}", reason="x", now=T2, actor="staff")
    assert (order.status, order.refunds) == (S.PAID, [])


def test_a_refund_one_unit_over_what_is_left_is_refused_and_says_how_much_is() -> None:
    order = paid()
    order.refund(amount=690, reference="re_1", reason="x", now=T2, actor="staff")
    with pytest.raises(RefundTooLarge, match=r"^at most 1000 can be refunded$"):
        order.refund(amount=1001, reference="re_2", reason="x", now=T3, actor="staff")
    order.refund(amount=1000, reference="re_2", reason="x", now=T3, actor="staff")
    assert order.status is S.REFUNDED


@pytest.mark.parametrize("status", [S.PENDING, S.CANCELLED, S.REFUNDED])
def test_an_order_without_money_to_give_back_refuses_a_refund(status: OrderStatus) -> None:
    order = new_order() if status is S.PENDING else paid()
    if status is S.CANCELLED:
        order = new_order()
        order.cancel(now=T1, actor="staff", reason="x")
    if status is S.REFUNDED:
        order.refund(amount=1690, reference="re_all", reason="x", now=T2, actor="staff")
    with pytest.raises(InvalidTransition, match=fr"^cannot refund an order that is {status.value}$"):
        order.refund(amount=1, reference="re_new", reason="x", now=T3, actor="staff")


def test_the_same_refund_reported_again_is_ignored_even_after_the_order_moved_on() -> None:
    order = paid()
    order.refund(amount=1690, reference="re_1", reason="x", now=T2, actor="staff")
    version = order.version
    order.refund(amount=1690, reference="re_1", reason="x", now=T3, actor="staff")
    assert (order.refunded, order.version) == (1690, version)


def test_refunds_to_a_gift_card_do_not_use_up_what_the_provider_can_give_back() -> None:
    order = paid(gift_card_amount=690)
    order.refund(amount=690, reference="giftcard:GC-1", reason="to card", now=T2, actor="staff")
    assert order.refundable_online == 1000
    order.refund(amount=300, reference="re_1", reason="to card holder", now=T3, actor="staff")
    assert order.refundable_online == 700
    order.refund(amount=700, reference="re_2", reason="rest", now=T4, actor="staff")
    assert (order.refundable_online, order.refundable, order.status) == (0, 0, S.REFUNDED)


def test_what_the_provider_can_give_back_never_goes_below_zero() -> None:
    order = paid(gift_card_amount=690)
    order.refund(amount=1690, reference="re_1", reason="all via provider", now=T2, actor="staff")
    assert order.refundable_online == 0


# -- fulfilment and shipping --------------------------------------------------------------------------


def test_packing_part_of_the_order_logs_it_and_keeps_the_status() -> None:
    order = paid()
    version = order.version
    fulfilment = order.fulfil(fulfilment_id="f1", lines={"l2": 1, "l1": 1}, now=T2, actor="staff:bo")
    assert fulfilment == Fulfilment(id="f1", lines=(("l1", 1), ("l2", 1)))
    assert order.fulfilments == [fulfilment]
    assert (order.status, order.version) == (S.PAID, version + 1)
    assert order.unfulfilled() == {"l1": 1, "l2": 0}
    assert last(order) == TimelineEntry(at=T2, actor="staff:bo", action="fulfil_partly", from_status="paid",
                                        to_status="paid", detail="f1")
    assert order.pull_events() == []


def test_two_partial_fulfilments_of_one_line_add_up_and_the_last_fulfils_the_order() -> None:
    order = paid()
    order.fulfil(fulfilment_id="f1", lines={"l1": 1}, now=T2, actor="staff")
    order.fulfil(fulfilment_id="f2", lines={"l1": 1, "l2": 1}, now=T3, actor="staff")
    assert order.unfulfilled() == {"l1": 0, "l2": 0}
    assert order.status is S.FULFILLED
    assert last(order) == TimelineEntry(at=T3, actor="staff", action="fulfil", from_status="paid",
                                        to_status="fulfilled", detail="")
    (event,) = order.pull_events()
    assert event == OrderStatusChanged(aggregate_id="o1", aggregate_version=order.version, occurred_at=T3,
                                       customer_id="cus-1", currency="EUR", status="fulfilled", from_status="paid",
                                       action="fulfil")


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ({"l1": 3}, "^line l1: at most 2 left to fulfil$"),
        ({"l1": 0}, "^line l1: at most 2 left to fulfil$"),
        ({"l1": -1}, "^line l1: at most 2 left to fulfil$"),
        ({"l9": 1}, "^line l9: at most 0 left to fulfil$"),
        ({"l2": 1, "l1": 5}, "^line l1: at most 2 left to fulfil$"),
    ],
)
def test_packing_more_than_is_left_or_nothing_of_a_line_is_refused(lines: dict[str, int], message: str) -> None:
    order = paid()
    with pytest.raises(InvalidInput, match=message):
        order.fulfil(fulfilment_id="f1", lines=lines, now=T2, actor="staff")
    assert (order.fulfilments, order.status) == ([], S.PAID)


def test_packing_exactly_what_is_left_of_a_line_is_allowed() -> None:
    order = paid()
    order.fulfil(fulfilment_id="f1", lines={"l1": 1}, now=T2, actor="staff")
    with pytest.raises(InvalidInput, match=r"at most 1 left"):
        order.fulfil(fulfilment_id="f2", lines={"l1": 2}, now=T3, actor="staff")
    order.fulfil(fulfilment_id="f2", lines={"l1": 1}, now=T3, actor="staff")
    assert order.unfulfilled()["l1"] == 0


def test_a_fulfilment_that_packs_nothing_is_refused() -> None:
    order = paid()
    with pytest.raises(InvalidInput, match=r"^a fulfilment packs at least one unit$"):
        order.fulfil(fulfilment_id="f1", lines={}, now=T2, actor="staff")
    assert order.fulfilments == []


def test_a_packed_order_refunded_in_part_is_not_fulfilled_again_by_an_empty_fulfilment() -> None:
    order = fulfilled()
    order.refund(amount=100, reference="re_1", reason="goodwill", now=T3, actor="staff")
    with pytest.raises(InvalidInput, match=r"at least one unit"):
        order.fulfil(fulfilment_id="f2", lines={}, now=T4, actor="staff")
    assert order.status is S.PARTIALLY_REFUNDED


@pytest.mark.parametrize("status", [S.PENDING, S.FULFILLED, S.CANCELLED])
def test_only_paid_or_partly_refunded_orders_are_packed(status: OrderStatus) -> None:
    order = fulfilled() if status is S.FULFILLED else new_order()
    if status is S.CANCELLED:
        order.cancel(now=T1, actor="staff", reason="x")
    with pytest.raises(InvalidTransition, match=fr"^cannot fulfil an order that is {status.value}$"):
        order.fulfil(fulfilment_id="f9", lines={"l1": 1}, now=T3, actor="staff")


def test_a_partly_refunded_unpacked_order_is_packed_and_fulfilled() -> None:
    order = paid()
    order.refund(amount=100, reference="re_1", reason="goodwill", now=T2, actor="staff")
    order.fulfil(fulfilment_id="f1", lines={"l1": 2, "l2": 1}, now=T3, actor="staff")
    assert order.status is S.FULFILLED
    assert last(order).from_status == "partially_refunded"


def test_shipping_stamps_every_fulfilment_and_logs_carrier_and_tracking() -> None:
    order = paid()
    order.fulfil(fulfilment_id="f1", lines={"l1": 2}, now=T2, actor="staff")
    order.fulfil(fulfilment_id="f2", lines={"l2": 1}, now=T2, actor="staff")
    order.pull_events()
    order.ship(carrier="DHL", tracking_number="JD0001", now=T3, actor="staff:bo")
    assert order.status is S.SHIPPED
    assert order.fulfilments == [
        Fulfilment(id="f1", lines=(("l1", 2),), carrier="DHL", tracking_number="JD0001", shipped_at=T3),
        Fulfilment(id="f2", lines=(("l2", 1),), carrier="DHL", tracking_number="JD0001", shipped_at=T3),
    ]
    assert last(order) == TimelineEntry(at=T3, actor="staff:bo", action="ship", from_status="fulfilled",
                                        to_status="shipped", detail="DHL JD0001")
    (event,) = order.pull_events()
    assert isinstance(event, OrderStatusChanged)
    assert (event.from_status, event.action, event.status, event.occurred_at) == ("fulfilled", "ship", "shipped", T3)


@pytest.mark.parametrize(("carrier", "tracking"), [("", "JD1"), ("DHL", ""), ("  ", "JD1"), ("DHL", " \t")])
def test_shipping_needs_a_carrier_and_a_tracking_number(carrier: str, tracking: str) -> None:
    order = fulfilled()
    with pytest.raises(InvalidInput, match=r"^a carrier and a tracking number are required$"):
        order.ship(carrier=carrier, tracking_number=tracking, now=T3, actor="staff")
    assert order.status is S.FULFILLED
    assert order.fulfilments[0].shipped_at is None


def test_an_unpacked_order_does_not_ship() -> None:
    order = paid()
    with pytest.raises(InvalidTransition, match=r"^cannot ship an order that is paid$"):
        order.ship(carrier="DHL", tracking_number="JD1", now=T2, actor="staff")


def test_a_partly_refunded_order_ships_only_when_all_is_packed() -> None:
    order = paid()
    order.fulfil(fulfilment_id="f1", lines={"l1": 2}, now=T2, actor="staff")
    order.refund(amount=100, reference="re_1", reason="goodwill", now=T2, actor="staff")
    with pytest.raises(InvalidTransition, match=r"partially_refunded"):
        order.ship(carrier="DHL", tracking_number="JD1", now=T3, actor="staff")
    order.fulfil(fulfilment_id="f2", lines={"l2": 1}, now=T3, actor="staff")
    assert order.status is S.FULFILLED


def test_a_packed_then_partly_refunded_order_ships_from_partially_refunded() -> None:
    order = fulfilled()
    order.refund(amount=100, reference="re_1", reason="goodwill", now=T3, actor="staff")
    order.ship(carrier="DHL", tracking_number="JD1", now=T4, actor="staff")
    assert order.status is S.SHIPPED
    assert last(order).from_status == "partially_refunded"


def test_delivering_a_shipped_order_is_logged_and_recorded() -> None:
    order = fulfilled()
    order.ship(carrier="DHL", tracking_number="JD1", now=T3, actor="staff")
    order.pull_events()
    order.deliver(now=T4, actor="carrier:dhl")
    assert order.status is S.DELIVERED
    assert last(order) == TimelineEntry(at=T4, actor="carrier:dhl", action="deliver", from_status="shipped",
                                        to_status="delivered", detail="")
    (event,) = order.pull_events()
    assert isinstance(event, OrderStatusChanged)
    assert (event.from_status, event.action, event.status) == ("shipped", "deliver", "delivered")
    with pytest.raises(InvalidTransition, match=r"^cannot deliver an order that is delivered$"):
        order.deliver(now=T4, actor="carrier:dhl")


# -- disputes ------------------------------------------------------------------------------------------


def test_opening_a_dispute_remembers_where_the_order_was_and_the_deadline() -> None:
    order = fulfilled()
    assert order.open_dispute(dispute_id="dp_1", deadline=T4, now=T3, actor="stripe") is True
    assert (order.status, order.dispute_previous, order.dispute_id, order.dispute_deadline) == (
        S.DISPUTED, S.FULFILLED, "dp_1", T4)
    assert last(order) == TimelineEntry(at=T3, actor="stripe", action="dispute", from_status="fulfilled",
                                        to_status="disputed", detail="dp_1")


def test_the_same_dispute_reported_again_only_updates_a_given_deadline() -> None:
    order = paid()
    order.open_dispute(dispute_id="dp_1", deadline=T3, now=T2, actor="stripe")
    version = order.version
    assert order.open_dispute(dispute_id="dp_1", deadline=None, now=T3, actor="stripe") is False
    assert order.dispute_deadline == T3
    assert order.open_dispute(dispute_id="dp_1", deadline=T4, now=T3, actor="stripe") is False
    assert (order.dispute_deadline, order.version, order.dispute_previous) == (T4, version, S.PAID)


def test_a_pending_order_cannot_be_disputed() -> None:
    order = new_order()
    with pytest.raises(InvalidTransition, match=r"^cannot dispute an order that is pending$"):
        order.open_dispute(dispute_id="dp_1", deadline=None, now=T1, actor="stripe")
    assert (order.dispute_id, order.dispute_previous) == (None, None)


def test_a_won_dispute_returns_the_order_where_it_was() -> None:
    order = fulfilled()
    order.open_dispute(dispute_id="dp_1", deadline=None, now=T3, actor="stripe")
    order.pull_events()
    assert order.close_dispute(won=True, refund_reference="re_dp", now=T4, actor="stripe") is True
    assert (order.status, order.dispute_previous, order.refunds) == (S.FULFILLED, None, [])
    assert last(order) == TimelineEntry(at=T4, actor="stripe", action="dispute_won", from_status="disputed",
                                        to_status="fulfilled", detail="")
    (event,) = order.pull_events()
    assert isinstance(event, OrderStatusChanged)
    assert (event.from_status, event.action, event.status) == ("disputed", "dispute_won", "fulfilled")


def test_a_won_dispute_without_a_remembered_status_returns_to_paid() -> None:
    order = paid()
    order.open_dispute(dispute_id="dp_1", deadline=None, now=T2, actor="stripe")
    order.dispute_previous = None  # as loaded from a row written before the field existed
    order.close_dispute(won=True, refund_reference="re_dp", now=T3, actor="stripe")
    assert order.status is S.PAID


def test_a_lost_dispute_refunds_what_the_card_paid_and_records_it() -> None:
    order = paid()
    order.open_dispute(dispute_id="dp_1", deadline=None, now=T2, actor="stripe")
    order.pull_events()
    assert order.close_dispute(won=False, refund_reference="re_dp", now=T3, actor="stripe") is True
    assert order.status is S.REFUNDED
    assert order.dispute_previous is None
    assert order.refunds == [RefundRecord(reference="re_dp", amount=1690, reason="dispute lost", at=T3)]
    assert last(order) == TimelineEntry(at=T3, actor="stripe", action="dispute_lost", from_status="disputed",
                                        to_status="refunded", detail="")
    base = {"aggregate_id": "o1", "aggregate_version": order.version, "occurred_at": T3, "customer_id": "cus-1",
            "currency": "EUR", "status": "refunded"}
    assert order.pull_events() == [
        OrderStatusChanged(**base, from_status="disputed", action="dispute_lost"),
        OrderRefunded(**base, amount=1690, refund_reference="re_dp"),
    ]


def test_a_lost_dispute_on_a_gift_card_order_leaves_the_card_s_share_refundable() -> None:
    order = paid(gift_card_amount=690)
    order.open_dispute(dispute_id="dp_1", deadline=None, now=T2, actor="stripe")
    order.close_dispute(won=False, refund_reference="re_dp", now=T3, actor="stripe")
    assert order.status is S.PARTIALLY_REFUNDED
    assert order.refunds == [RefundRecord(reference="re_dp", amount=1000, reason="dispute lost", at=T3)]
    assert (order.refundable, order.refundable_online) == (690, 0)


def test_a_lost_dispute_with_nothing_left_on_the_card_records_no_refund() -> None:
    order = paid(gift_card_amount=690)
    order.refund(amount=1000, reference="re_1", reason="card part", now=T2, actor="staff")
    order.open_dispute(dispute_id="dp_1", deadline=None, now=T3, actor="stripe")
    order.pull_events()
    order.close_dispute(won=False, refund_reference="re_dp", now=T4, actor="stripe")
    assert [r.reference for r in order.refunds] == ["re_1"]
    assert order.status is S.PARTIALLY_REFUNDED
    assert [type(e) for e in order.pull_events()] == [OrderStatusChanged]


def test_closing_a_dispute_that_is_not_open_changes_nothing() -> None:
    order = paid()
    version = order.version
    assert order.close_dispute(won=False, refund_reference="re_dp", now=T2, actor="stripe") is False
    assert (order.status, order.refunds, order.version) == (S.PAID, [], version)


def test_every_transition_bumps_the_version_by_one() -> None:
    order = new_order()
    versions = [order.version]
    order.pay(reference="pi_1", amount=1690, now=T1, actor="stripe")
    versions.append(order.version)
    order.fulfil(fulfilment_id="f1", lines={"l1": 2, "l2": 1}, now=T2, actor="staff")
    versions.append(order.version)
    order.ship(carrier="DHL", tracking_number="JD1", now=T3, actor="staff")
    versions.append(order.version)
    order.deliver(now=T4, actor="staff")
    versions.append(order.version)
    assert versions == [1, 2, 3, 4, 5]


def test_a_lost_dispute_with_one_unit_left_on_the_card_refunds_that_unit() -> None:
    order = paid(gift_card_amount=690)
    order.refund(amount=999, reference="re_1", reason="most of the card part", now=T2, actor="staff")
    order.open_dispute(dispute_id="dp_1", deadline=None, now=T3, actor="stripe")
    order.pull_events()
    order.close_dispute(won=False, refund_reference="re_dp", now=T4, actor="stripe")
    assert order.refunds[-1] == RefundRecord(reference="re_dp", amount=1, reason="dispute lost", at=T4)
    assert [type(e) for e in order.pull_events()] == [OrderStatusChanged, OrderRefunded]
