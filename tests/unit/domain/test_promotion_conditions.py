"""When a rule's condition holds for a cart: each condition at its edge, and how they combine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.promotions.context import PricingContext, PricingLine
from domain.promotions.effects import holds
from domain.promotions.rules import Condition
from domain.promotions.text import parse_condition

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
TICK = timedelta(microseconds=1)


def cart(**more: object) -> PricingContext:
    lines = (
        PricingLine(sku="SHOE", product_id="p-shoe", category_ids=frozenset({"shoes"}), quantity=2, unit_price=2000),
        PricingLine(sku="SOCK", product_id="p-sock", category_ids=frozenset({"socks"}), quantity=3, unit_price=500),
    )
    return PricingContext(lines=lines, currency=more.pop("currency", "EUR"), at=more.pop("at", NOW), **more)  # type: ignore[arg-type]


def when(text: str) -> Condition:
    return parse_condition(text)


def test_a_subtotal_threshold_holds_from_exactly_the_threshold_not_a_minor_unit_below() -> None:
    assert holds(when("subtotal >= 55.00 EUR"), cart())  # 2 x 20.00 + 3 x 5.00
    assert not holds(when("subtotal >= 55.01 EUR"), cart())


def test_a_subtotal_threshold_in_other_currencies_only_never_holds() -> None:
    assert not holds(when("subtotal >= 1.00 USD"), cart())
    assert holds(when("subtotal >= 1.00 USD, 55.00 EUR"), cart())


def test_a_quantity_threshold_counts_the_units_of_the_matching_lines_only() -> None:
    assert holds(when("quantity(category:socks) >= 3"), cart())
    assert not holds(when("quantity(category:socks) >= 4"), cart())
    assert holds(when("quantity(all) >= 5"), cart())
    assert not holds(when("quantity(all) >= 6"), cart())


def test_who_and_where_the_shopper_is() -> None:
    vip = cart(
        customer_groups=frozenset({"vip"}), first_order=True, channel="app", coupon_codes=frozenset({"Summer10"})
    )
    assert holds(when('customer group "vip"'), vip)
    assert not holds(when('customer group "vip"'), cart())
    assert holds(when("first order"), vip)
    assert not holds(when("first order"), cart())
    assert holds(when('coupon "SUMMER10"'), vip)
    assert not holds(when('coupon "SUMMER10"'), cart())
    assert holds(when('channel = "app"'), vip)
    assert not holds(when('channel = "app"'), cart())
    assert not holds(when('channel = "app"'), cart(channel="web"))


def test_a_currency_condition_compares_the_carts_currency() -> None:
    assert holds(when("currency = EUR"), cart())
    assert not holds(when("currency = USD"), cart())


def test_a_date_window_holds_from_exactly_its_start() -> None:
    window = when(f"date from {NOW.isoformat()}")
    assert holds(window, cart(at=NOW))
    assert not holds(window, cart(at=NOW - TICK))


def test_a_date_window_holds_until_just_before_its_end() -> None:
    window = when(f"date until {NOW.isoformat()}")
    assert holds(window, cart(at=NOW - TICK))
    assert not holds(window, cart(at=NOW))


def test_a_date_window_with_both_ends_holds_only_between_them() -> None:
    window = when(f"date from {(NOW - timedelta(days=1)).isoformat()} until {NOW.isoformat()}")
    assert holds(window, cart(at=NOW - timedelta(hours=1)))
    assert not holds(window, cart(at=NOW))  # started, but over
    assert not holds(window, cart(at=NOW - timedelta(days=2)))  # not started


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("always and first order", False),
        ("first order and always", False),
        ("always and currency = EUR", True),
        ("first order or always", True),
        ("always or first order", True),
        ("first order or currency = USD", False),
        ("not first order", True),
        ("not always", False),
    ],
)
def test_and_needs_every_part_or_needs_one_not_turns_it_round(text: str, expected: bool) -> None:
    assert holds(when(text), cart()) is expected
