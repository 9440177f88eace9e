"""Every transition of the Order state machine: the allowed ones move and log, the rest raise."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.orders.order import InvalidTransition, Order, OrderLine, OrderStatus, RefundTooLarge, Totals
from domain.shared.address import Address

S = OrderStatus
NOW = datetime(2026, 6, 1, tzinfo=UTC)
HOME = Address(name="Ada", line1="1 Main St", city="Berlin", postal_code="10117", country="DE")


def new_order() -> Order:
    return Order.place(
        actor="customer:ada", now=NOW, id="o1", number="EM-1", checkout_id="c1", customer_id="ada",
        email="ada@example.com", channel="web",
        lines=(OrderLine(id="l1", sku="A", product_id="p", name="A", quantity=2, unit_price=500, subtotal=1000,
                         discount=0, tax=160, total=1000),),
        tax_lines=(), totals=Totals(currency="EUR", subtotal=1000, discount=0, shipping=0, tax=160, total=1000,
                                    prices_include_tax=True),
        shipping_address=HOME, billing_address=HOME, shipping_method="eu-standard", payment_provider="stripe",
    )


def order_in(status: OrderStatus) -> Order:
    """Walk the order to ``status`` along allowed transitions."""
    order = new_order()
    steps = {
        S.PENDING: [],
        S.PAID: ["pay"],
        S.FULFILLED: ["pay", "fulfil"],
        S.SHIPPED: ["pay", "fulfil", "ship"],
        S.DELIVERED: ["pay", "fulfil", "ship", "deliver"],
        S.CANCELLED: ["cancel"],
        S.PARTIALLY_REFUNDED: ["pay", "refund_part"],
        S.REFUNDED: ["pay", "refund_all"],
        S.DISPUTED: ["pay", "dispute"],
    }[status]
    for step in steps:
        do(order, step)
    assert order.status is status
    return order


def do(order: Order, action: str) -> None:
    actions = {
        "pay": lambda: order.pay(reference="pi_1", amount=1000, now=NOW, actor="stripe"),
        "fulfil": lambda: order.fulfil(fulfilment_id="f1", lines={"l1": 2}, now=NOW, actor="staff"),
        "ship": lambda: order.ship(carrier="DHL", tracking_number="123", now=NOW, actor="staff"),
        "deliver": lambda: order.deliver(now=NOW, actor="staff"),
        "cancel": lambda: order.cancel(now=NOW, actor="staff", reason="asked",
                                       refund_reference="re_c" if order.status is S.PAID else None),
        "refund_part": lambda: order.refund(amount=400, reference=f"re_{len(order.refunds)}", reason="r", now=NOW,
                                            actor="staff"),
        "refund_all": lambda: order.refund(amount=order.refundable, reference=f"re_all_{len(order.refunds)}",
                                           reason="r", now=NOW, actor="staff"),
        "dispute": lambda: order.open_dispute(dispute_id="dp_1", deadline=None, now=NOW, actor="stripe"),
    }
    actions[action]()


ALLOWED = {
    S.PENDING: {"pay": S.PAID, "cancel": S.CANCELLED},
    S.PAID: {"fulfil": S.FULFILLED, "cancel": S.CANCELLED, "refund_part": S.PARTIALLY_REFUNDED,
             "refund_all": S.REFUNDED, "dispute": S.DISPUTED},
    S.FULFILLED: {"ship": S.SHIPPED, "refund_part": S.PARTIALLY_REFUNDED, "refund_all": S.REFUNDED,
                  "dispute": S.DISPUTED},
    S.SHIPPED: {"deliver": S.DELIVERED, "refund_part": S.PARTIALLY_REFUNDED, "refund_all": S.REFUNDED,
                "dispute": S.DISPUTED},
    S.DELIVERED: {"refund_part": S.PARTIALLY_REFUNDED, "refund_all": S.REFUNDED, "dispute": S.DISPUTED},
    S.CANCELLED: {},
    # Reached unpacked (pay, refund part): a goodwill refund does not stop the order shipping.
    S.PARTIALLY_REFUNDED: {"fulfil": S.FULFILLED, "refund_part": S.PARTIALLY_REFUNDED, "refund_all": S.REFUNDED,
                           "dispute": S.DISPUTED},
    S.REFUNDED: {},
    S.DISPUTED: {},
}
ACTIONS = ["pay", "fulfil", "ship", "deliver", "cancel", "refund_part", "refund_all", "dispute"]
CASES = [(status, action) for status in S for action in ACTIONS]


@pytest.mark.parametrize(("status", "action"), CASES, ids=[f"{s.value}-{a}" for s, a in CASES])
def test_each_transition_is_allowed_or_refused(status: OrderStatus, action: str) -> None:
    order = order_in(status)
    before = (order.version, len(order.timeline))
    target = ALLOWED[status].get(action)
    if action == "pay" and order.captured:
        # The provider repeating its success changes nothing; a second, different payment is refused.
        assert order.pay(reference="pi_1", amount=1000, now=NOW, actor="stripe") is False
        assert (order.version, len(order.timeline)) == before
        if status is not S.DISPUTED:
            with pytest.raises(InvalidTransition):
                order.pay(reference="pi_2", amount=1000, now=NOW, actor="stripe")
        return
    if status is S.DISPUTED and action == "dispute":
        assert order.open_dispute(dispute_id="dp_1", deadline=None, now=NOW, actor="stripe") is False  # repeated
        with pytest.raises(InvalidTransition):
            order.open_dispute(dispute_id="dp_2", deadline=None, now=NOW, actor="stripe")
        return
    if target is None:
        with pytest.raises((InvalidTransition, RefundTooLarge)):
            do(order, action)
        assert (order.version, len(order.timeline)) == before
        return
    do(order, action)
    assert order.status is target
    assert order.timeline[-1].to_status == target.value
    assert order.version > before[0]


def test_a_dispute_won_goes_back_and_lost_ends_refunded() -> None:
    won = order_in(S.SHIPPED)
    won.open_dispute(dispute_id="dp", deadline=None, now=NOW, actor="stripe")
    assert won.close_dispute(won=True, refund_reference="x", now=NOW, actor="stripe") is True
    assert won.status is S.SHIPPED
    lost = order_in(S.PAID)
    lost.open_dispute(dispute_id="dp", deadline=None, now=NOW, actor="stripe")
    lost.close_dispute(won=False, refund_reference="dispute-dp", now=NOW, actor="stripe")
    assert (lost.status, lost.refunded) == (S.REFUNDED, 1000)
    assert lost.close_dispute(won=True, refund_reference="x", now=NOW, actor="stripe") is False  # a stale event


def test_refunds_never_exceed_what_was_captured() -> None:
    order = order_in(S.PAID)
    order.refund(amount=600, reference="re_1", reason="damaged", now=NOW, actor="staff")
    with pytest.raises(RefundTooLarge):
        order.refund(amount=401, reference="re_2", reason="more", now=NOW, actor="staff")
    order.refund(amount=600, reference="re_1", reason="damaged", now=NOW, actor="staff")  # same refund: no-op
    assert (order.status, order.refunded) == (S.PARTIALLY_REFUNDED, 600)


def test_a_paid_order_cancels_only_with_its_refund() -> None:
    order = order_in(S.PAID)
    with pytest.raises(InvalidTransition):
        order.cancel(now=NOW, actor="staff", reason="asked")
    order.cancel(now=NOW, actor="staff", reason="asked", refund_reference="re_1")
    assert (order.status, order.refunded) == (S.CANCELLED, 1000)


def test_a_packed_order_refunded_in_part_still_ships_once() -> None:
    order = order_in(S.FULFILLED)
    do(order, "refund_part")
    assert order.status is S.PARTIALLY_REFUNDED
    do(order, "ship")
    assert order.status is S.SHIPPED
    do(order, "refund_part")
    with pytest.raises(InvalidTransition):  # already on its way
        do(order, "ship")
