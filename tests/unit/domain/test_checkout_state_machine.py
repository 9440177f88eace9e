"""Checkout: the steps, what each change reopens and releases, and the one-way road to placed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.carts.cart import Owner
from domain.checkout.checkout import (
    CartChanged,
    Checkout,
    CheckoutClosed,
    CheckoutIncomplete,
    CheckoutStarted,
    CheckoutState,
    Snapshot,
)
from domain.shared.address import Address

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
T1 = T0 + timedelta(minutes=1)
T2 = T0 + timedelta(minutes=2)
T3 = T0 + timedelta(minutes=3)

BERLIN = Address(name="Ada", line1="Unter den Linden 1", city="Berlin", postal_code="10117", country="DE")
MUNICH = Address(name="Ada", line1="Marienplatz 1", city="München", postal_code="80331", country="DE")
VIENNA = Address(name="Ada", line1="Ring 1", city="Wien", postal_code="1010", country="AT")
CALIFORNIA = Address(name="Bo", line1="1 Market St", city="SF", postal_code="94105", country="US", region="CA")
NEW_YORK = Address(name="Bo", line1="1 Broadway", city="NYC", postal_code="10004", country="US", region="NY")


def snapshot(cart_version: int = 3) -> Snapshot:
    return Snapshot(cart_version=cart_version, lines=(), tax_lines=(), subtotal=1000, discount=0, shipping=490,
                    tax=0, total=1490, prices_include_tax=True, shipping_method="dhl")


def started(owner: Owner | None = None, email: str | None = None) -> Checkout:
    return Checkout.start(checkout_id="co-1", owner=owner or Owner.guest("g-1"), cart_id="cart-1", currency="EUR",
                          channel="web", email=email, now=T0)


def ready_to_pay() -> Checkout:
    checkout = started(email="ada@example.com")
    checkout.set_address(BERLIN, None, now=T0)
    checkout.choose_shipping("dhl", now=T0)
    return checkout


def paying() -> Checkout:
    checkout = ready_to_pay()
    checkout.begin_payment(provider="manual", snapshot=snapshot(), reservation_id="res-1", now=T1)
    return checkout


def placed() -> Checkout:
    checkout = paying()
    checkout.place(order_id="ord-1", cart_version=3, now=T2)
    return checkout


def test_starting_records_who_started_from_which_cart() -> None:
    checkout = started(owner=Owner.customer("cus-9"), email="ada@example.com")
    assert checkout.pull_events() == [
        CheckoutStarted(aggregate_id="co-1", aggregate_version=1, occurred_at=T0, cart_id="cart-1",
                        customer_id="cus-9")
    ]
    assert CheckoutStarted.topic == "checkout.checkout_started.v1"
    assert (checkout.id, checkout.cart_id, checkout.currency, checkout.channel) == ("co-1", "cart-1", "EUR", "web")
    assert (checkout.created_at, checkout.updated_at, checkout.email) == (T0, T0, "ada@example.com")
    assert checkout.state is CheckoutState.OPEN
    assert checkout.owner == Owner.customer("cus-9")


def test_a_guest_checkout_names_no_customer() -> None:
    (event,) = started(owner=Owner.guest("g-1")).pull_events()
    assert isinstance(event, CheckoutStarted)
    assert event.customer_id is None


def test_next_step_asks_for_contact_then_address_then_shipping_then_payment() -> None:
    checkout = started()
    assert checkout.next_step == "contact"
    checkout.set_contact("", now=T1)
    assert checkout.next_step == "contact"
    checkout.set_address(BERLIN, None, now=T1)
    assert checkout.next_step == "contact"  # the address is kept, contact is still missing
    checkout.set_contact("ada@example.com", now=T1)
    assert checkout.next_step == "shipping"
    checkout.choose_shipping("dhl", now=T1)
    assert checkout.next_step == "payment"


def test_next_step_is_place_during_payment_and_done_once_placed() -> None:
    assert paying().next_step == "place"
    assert placed().next_step == "done"


def test_a_step_changes_the_checkout_and_its_updated_at() -> None:
    checkout = started()
    assert checkout.set_contact("ada@example.com", now=T1) is None
    assert (checkout.email, checkout.updated_at) == ("ada@example.com", T1)
    assert checkout.set_address(BERLIN, VIENNA, now=T2) is None
    assert (checkout.shipping_address, checkout.billing_address, checkout.updated_at) == (BERLIN, VIENNA, T2)
    assert checkout.choose_shipping("dhl", now=T3) is None
    assert (checkout.shipping_method, checkout.updated_at) == ("dhl", T3)


def test_the_billing_address_defaults_to_the_shipping_address() -> None:
    checkout = started()
    checkout.set_address(BERLIN, None, now=T1)
    assert checkout.billing_address == BERLIN


def test_shipping_cannot_be_chosen_before_an_address() -> None:
    checkout = started(email="ada@example.com")
    with pytest.raises(CheckoutIncomplete, match=r"address before choosing shipping"):
        checkout.choose_shipping("dhl", now=T1)
    assert checkout.shipping_method is None
    assert checkout.updated_at == T0


def test_a_new_country_drops_the_chosen_shipping_method() -> None:
    checkout = ready_to_pay()
    checkout.set_address(VIENNA, None, now=T1)
    assert checkout.shipping_method is None
    assert checkout.next_step == "shipping"


def test_a_new_region_drops_the_chosen_shipping_method() -> None:
    checkout = started(email="bo@example.com")
    checkout.set_address(CALIFORNIA, None, now=T0)
    checkout.choose_shipping("ups", now=T0)
    checkout.set_address(NEW_YORK, None, now=T1)
    assert checkout.shipping_method is None


def test_another_address_in_the_same_country_and_region_keeps_the_shipping_method() -> None:
    checkout = ready_to_pay()
    checkout.set_address(MUNICH, None, now=T1)
    assert checkout.shipping_method == "dhl"
    assert checkout.shipping_address == MUNICH


def test_beginning_payment_freezes_the_snapshot_and_holds_the_reservation() -> None:
    checkout = paying()
    assert checkout.state is CheckoutState.PAYMENT
    assert checkout.payment_provider == "manual"
    assert checkout.snapshot == snapshot()
    assert checkout.reservation_id == "res-1"
    assert checkout.updated_at == T1


@pytest.mark.parametrize(
    ("prepare", "missing"),
    [
        (lambda c: None, "contact"),
        (lambda c: c.set_contact("ada@example.com", now=T0), "address"),
        (lambda c: (c.set_contact("ada@example.com", now=T0), c.set_address(BERLIN, None, now=T0)), "shipping"),
    ],
)
def test_payment_cannot_begin_with_a_step_missing_and_says_which(prepare, missing: str) -> None:  # type: ignore[no-untyped-def]
    checkout = started()
    prepare(checkout)
    with pytest.raises(CheckoutIncomplete, match=fr"^the {missing} step is missing$"):
        checkout.begin_payment(provider="manual", snapshot=snapshot(), reservation_id="res-1", now=T1)
    assert checkout.state is CheckoutState.OPEN
    assert checkout.snapshot is None
    assert checkout.reservation_id is None


def test_payment_can_begin_again_with_a_fresh_snapshot() -> None:
    checkout = paying()
    checkout.begin_payment(provider="stripe", snapshot=snapshot(4), reservation_id="res-2", now=T2)
    assert (checkout.payment_provider, checkout.reservation_id, checkout.updated_at) == ("stripe", "res-2", T2)
    assert checkout.snapshot == snapshot(4)


@pytest.mark.parametrize(
    "change",
    [
        lambda c: c.set_contact("other@example.com", now=T2),
        lambda c: c.set_address(MUNICH, None, now=T2),
        lambda c: c.choose_shipping("ups", now=T2),
    ],
    ids=["contact", "address", "shipping"],
)
def test_changing_a_step_after_payment_started_reopens_and_releases_the_hold(change) -> None:  # type: ignore[no-untyped-def]
    checkout = paying()
    assert change(checkout) == "res-1"
    assert checkout.state is CheckoutState.OPEN
    assert checkout.snapshot is None
    assert checkout.reservation_id is None
    assert checkout.updated_at == T2
    assert checkout.next_step == "payment"
    assert change(checkout) is None  # nothing left to release


def test_placing_records_the_order_once() -> None:
    checkout = placed()
    assert checkout.state is CheckoutState.PLACED
    assert (checkout.order_id, checkout.updated_at) == ("ord-1", T2)
    checkout.place(order_id="ord-2", cart_version=99, now=T3)
    assert (checkout.order_id, checkout.updated_at) == ("ord-1", T2)


def test_placing_before_payment_began_is_refused_with_the_missing_step() -> None:
    checkout = ready_to_pay()
    with pytest.raises(CheckoutIncomplete, match=r"^the payment step is missing$"):
        checkout.place(order_id="ord-1", cart_version=3, now=T2)
    assert checkout.state is CheckoutState.OPEN
    assert checkout.order_id is None


def test_placing_after_the_cart_changed_is_refused_and_payment_stays_open() -> None:
    checkout = paying()
    with pytest.raises(CartChanged, match=r"cart changed after payment started"):
        checkout.place(order_id="ord-1", cart_version=4, now=T2)
    assert checkout.state is CheckoutState.PAYMENT
    assert checkout.order_id is None
    assert checkout.updated_at == T1


@pytest.mark.parametrize(
    "change",
    [
        lambda c: c.set_contact("other@example.com", now=T3),
        lambda c: c.set_address(MUNICH, None, now=T3),
        lambda c: c.choose_shipping("ups", now=T3),
        lambda c: c.begin_payment(provider="manual", snapshot=snapshot(), reservation_id="res-9", now=T3),
    ],
    ids=["contact", "address", "shipping", "payment"],
)
def test_a_placed_checkout_takes_no_more_changes(change) -> None:  # type: ignore[no-untyped-def]
    checkout = placed()
    with pytest.raises(CheckoutClosed, match=r"^checkout co-1 is placed$"):
        change(checkout)
    assert checkout.state is CheckoutState.PLACED
    assert checkout.email == "ada@example.com"
    assert checkout.shipping_address == BERLIN
    assert checkout.shipping_method == "dhl"
    assert checkout.snapshot == snapshot()
    assert checkout.reservation_id == "res-1"
    assert checkout.updated_at == T2


def test_a_checkout_in_payment_without_a_snapshot_is_not_placed() -> None:
    # as loaded from a damaged row: nothing says what the shopper agreed to pay
    checkout = ready_to_pay()
    checkout.state = CheckoutState.PAYMENT
    with pytest.raises(CheckoutIncomplete, match=r"^the place step is missing$"):
        checkout.place(order_id="ord-1", cart_version=3, now=T2)
    assert checkout.order_id is None


def test_every_change_bumps_the_version_once_and_a_refused_one_does_not() -> None:
    checkout = started()
    assert checkout.version == 1
    checkout.set_contact("ada@example.com", now=T1)
    checkout.set_address(BERLIN, None, now=T1)
    checkout.choose_shipping("dhl", now=T1)
    assert checkout.version == 4
    checkout.begin_payment(provider="manual", snapshot=snapshot(), reservation_id="res-1", now=T1)
    assert checkout.version == 5
    with pytest.raises(CartChanged):
        checkout.place(order_id="ord-1", cart_version=9, now=T2)
    assert checkout.version == 5
    checkout.place(order_id="ord-1", cart_version=3, now=T2)
    assert checkout.version == 6
    checkout.place(order_id="ord-1", cart_version=3, now=T2)
    assert checkout.version == 6
