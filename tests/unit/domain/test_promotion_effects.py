"""What one action takes off one cart, line by line, given what is still payable."""

from __future__ import annotations

from datetime import UTC, datetime
from fractions import Fraction

import pytest

from domain.promotions.context import PricingContext, PricingLine
from domain.promotions.effects import Effect, Ledger, Level, allocate, effects_of, holds, matches
from domain.promotions.rules import Action
from domain.promotions.text import parse

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def line(sku: str, unit_price: int, quantity: int = 1, *categories: str) -> PricingLine:
    return PricingLine(
        sku=sku,
        product_id=f"p-{sku.lower()}",
        category_ids=frozenset(categories),
        quantity=quantity,
        unit_price=unit_price,
    )


def action(text: str) -> Action:
    return parse(f"when always then {text}").then[0]


def take(text: str, *lines: PricingLine, payable: list[int] | None = None, shipping: int = 0) -> list[Effect]:
    context = PricingContext(lines=lines, currency="EUR", at=NOW, shipping=shipping)
    ledger = Ledger(lines=payable if payable is not None else [x.subtotal for x in lines], shipping=shipping)
    return effects_of(action(text), context, ledger)


def off(*amounts: tuple[int, int]) -> list[Effect]:
    return [Effect(line=i, level=Level.LINE, amount=amount) for i, amount in amounts]


def test_a_bundle_is_made_of_the_units_its_components_name_not_the_dearest_in_the_cart() -> None:
    effects = take("bundle(sku:A, sku:B) for 4.00 EUR", line("X", 1000), line("A", 300), line("B", 200))
    assert effects == off((1, 60), (2, 40))  # 5.00 for 4.00: the saving of 1.00 split 3:2, the X untouched


def test_a_bundle_takes_the_dearest_matching_units_first_for_the_largest_saving() -> None:
    socks = [line(f"S{n}", price, 1, "socks") for n, price in enumerate([400, 100, 300])]
    effects = take("bundle(category:socks, category:socks) for 5.00 EUR", *socks)
    assert effects == off((0, 114), (2, 86))  # 4.00 + 3.00 for 5.00; the 1.00 pair would save nothing


def test_each_bundle_a_cart_holds_adds_its_saving_to_the_lines_it_takes_units_from() -> None:
    effects = take("bundle(sku:A, sku:B) for 5.00 EUR", line("A", 500, 2), line("B", 200, 2))
    assert effects == off((0, 286), (1, 114))  # two bundles of 7.00 for 5.00: 4.00 saved, split 5:2


def test_a_unit_nothing_is_payable_on_does_not_complete_a_bundle() -> None:
    effects = take("bundle(sku:A, sku:B) for 1.00 EUR", line("A", 500), line("B", 200), payable=[500, 0])
    assert effects == []


def test_a_unit_with_one_minor_unit_still_payable_completes_a_bundle() -> None:
    effects = take("bundle(sku:A, sku:B) for 1.00 EUR", line("A", 500), line("B", 200), payable=[500, 1])
    assert effects == off((0, 400), (1, 1))  # 5.01 for 1.00


def test_a_unit_already_fully_discounted_neither_counts_towards_buy_x_nor_is_given_free() -> None:
    lines = line("A", 500), line("C", 300), line("B", 200)
    effects = take("buy 1 get 1 at 100% off lines(all) cheapest first", *lines, payable=[500, 300, 0])
    assert effects == off((1, 300))


def test_a_unit_with_one_minor_unit_still_payable_counts_towards_buy_x() -> None:
    effects = take(
        "buy 1 get 1 at 100% off lines(all) cheapest first", line("A", 500), line("C", 300), payable=[500, 1]
    )
    assert effects == off((1, 1))


def test_buy_one_get_two_gives_two_units_per_three_bought() -> None:
    effects = take("buy 1 get 2 at 100% off lines(all) cheapest first", line("A", 100, 3))
    assert effects == off((0, 200))


def test_a_percentage_off_lines_weighs_only_what_is_still_payable() -> None:
    effects = take("10% off lines(all)", line("A", 1000), line("B", 500), line("C", 300), payable=[1000, 0, 300])
    assert effects == off((0, 100), (2, 30))


def test_a_product_selector_takes_the_lines_of_that_product_only() -> None:
    effects = take("10% off lines(product:p-a)", line("A", 1000), line("B", 500))
    assert effects == off((0, 100))


def test_an_attribute_selector_takes_the_lines_whose_attribute_has_that_value() -> None:
    red = PricingLine(sku="R", product_id="p", attributes={"colour": "red"}, quantity=1, unit_price=1000)
    blue = PricingLine(sku="B", product_id="p", attributes={"colour": "blue"}, quantity=1, unit_price=500)
    plain = PricingLine(sku="P", product_id="p", quantity=1, unit_price=300)
    assert take("10% off lines(attribute:colour=red)", red, blue, plain) == off((0, 100))
    assert take("10% off lines(attribute:colour=green)", red, blue, plain) == []


class Stranger:
    def __repr__(self) -> str:
        return "Stranger()"


def test_a_selector_condition_or_action_the_engine_does_not_know_is_refused_naming_it() -> None:
    context = PricingContext(lines=(line("A", 100),), currency="EUR", at=NOW)
    with pytest.raises(AssertionError, match=r"Stranger\(\)"):
        matches(Stranger(), context.lines[0])  # type: ignore[arg-type]
    with pytest.raises(AssertionError, match=r"Stranger\(\)"):
        holds(Stranger(), context)  # type: ignore[arg-type]
    with pytest.raises(AssertionError, match=r"Stranger\(\)"):
        effects_of(Stranger(), context, Ledger(lines=[100], shipping=0))  # type: ignore[arg-type]


def test_allocate_rounds_the_total_once_half_to_even() -> None:
    assert allocate(Fraction(5, 2), [10]) == [2]
    assert allocate(Fraction(7, 2), [10]) == [4]
    assert allocate(Fraction(1, 2), [10]) == [0]


def test_allocate_never_hands_out_more_than_the_weights_add_up_to() -> None:
    assert allocate(100, [30, 20]) == [30, 20]
    assert allocate(Fraction(101, 2), [30, Fraction(41, 2)]) == [30, 20]  # capped at the floor of 50.5


def test_allocate_splits_by_largest_remainder_ties_going_to_the_earlier_weight() -> None:
    assert allocate(10, [5, 5, 5]) == [4, 3, 3]
    assert allocate(2, [5, 5, 5]) == [1, 1, 0]
    assert allocate(5, [10, 20]) == [2, 3]  # 5/3 and 10/3: the first has the larger remainder
    assert allocate(5, [20, 10]) == [3, 2]


def test_allocate_hands_out_nothing_for_nothing() -> None:
    assert allocate(10, []) == []
    assert allocate(10, [0, 0]) == [0, 0]
    assert allocate(0, [5, 5]) == [0, 0]
    assert allocate(-3, [5, 5]) == [0, 0]
    assert allocate(1, [0, 1]) == [0, 1]


def test_the_ledger_takes_at_most_what_is_left_and_records_only_what_it_took() -> None:
    ledger = Ledger(lines=[30, 0, 500], shipping=40)
    taken = ledger.take(
        [
            Effect(line=0, level=Level.LINE, amount=100),
            Effect(line=1, level=Level.ORDER, amount=10),
            Effect(line=2, level=Level.ORDER, amount=1),
            Effect(line=None, level=Level.SHIPPING, amount=50),
        ]
    )
    assert taken == [
        Effect(line=0, level=Level.LINE, amount=30),
        Effect(line=2, level=Level.ORDER, amount=1),
        Effect(line=None, level=Level.SHIPPING, amount=40),
    ]
    assert (ledger.lines, ledger.shipping, ledger.merchandise) == ([0, 0, 499], 0, 499)


def test_a_ledger_copy_is_changed_apart_from_the_original() -> None:
    ledger = Ledger(lines=[100], shipping=50)
    copy = ledger.copy()
    copy.take([Effect(line=0, level=Level.LINE, amount=10), Effect(line=None, level=Level.SHIPPING, amount=5)])
    assert (ledger.lines, ledger.shipping) == ([100], 50)
    assert (copy.lines, copy.shipping) == ([90], 45)


def test_a_percentage_off_the_order_spreads_over_what_is_still_payable() -> None:
    effects = take("10% off order", line("A", 1000), line("B", 500), payable=[1000, 250])
    assert effects == [Effect(line=0, level=Level.ORDER, amount=100), Effect(line=1, level=Level.ORDER, amount=25)]


def test_an_amount_off_the_order_spreads_in_proportion_and_needs_the_carts_currency() -> None:
    effects = take("3.00 EUR off order", line("A", 1000), line("B", 500))
    assert effects == [Effect(line=0, level=Level.ORDER, amount=200), Effect(line=1, level=Level.ORDER, amount=100)]
    assert take("3.00 USD off order", line("A", 1000)) == []


def test_an_amount_off_lines_takes_from_the_matching_lines_in_the_carts_currency_only() -> None:
    assert take("2.00 EUR off lines(sku:B)", line("A", 1000), line("B", 500)) == off((1, 200))
    assert take("2.00 USD off lines(sku:B)", line("A", 1000), line("B", 500)) == []
    assert take("9.00 EUR off lines(sku:B)", line("A", 1000), line("B", 500)) == off((1, 500))


def test_shipping_discounts_take_from_shipping_and_never_more_than_it_costs() -> None:
    def shipping(amount: int) -> list[Effect]:
        return [Effect(line=None, level=Level.SHIPPING, amount=amount)]

    assert take("10% off shipping", line("A", 1000), shipping=490) == shipping(49)
    assert take("free shipping", line("A", 1000), shipping=490) == shipping(490)
    assert take("free shipping", line("A", 1000), shipping=0) == []
    assert take("3.00 EUR off shipping", line("A", 1000), shipping=490) == shipping(300)
    assert take("9.00 EUR off shipping", line("A", 1000), shipping=490) == shipping(490)
    assert take("3.00 USD off shipping", line("A", 1000), shipping=490) == []


def test_buy_x_get_y_gives_the_cheapest_units_and_stops_at_its_limit() -> None:
    lines = line("A", 1000, 2), line("B", 300, 2), line("C", 100, 1)
    assert take("buy 1 get 1 at 50% off lines(all) cheapest first", *lines) == off((1, 150), (2, 50))
    assert take("buy 1 get 1 at 50% off lines(all) cheapest first limit 1", *lines) == off((2, 50))
    assert take("buy 2 get 1 at 100% off lines(sku:C) cheapest first", *lines) == []
