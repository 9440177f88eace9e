"""The promotions engine: every outcome explained, stacking guards, schedules at their edges, and the
exclusive-group chooser on both sides of its exhaustive-search limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.promotions.effects import Level
from domain.promotions.engine import (
    MAX_COMBINATIONS,
    ActivePromotion,
    Applied,
    LineResult,
    Outcome,
    PricingContext,
    PricingLine,
    price,
)
from domain.promotions.errors import InvalidPricingInput
from domain.promotions.text import parse
from domain.shared.money import Money

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def line(sku: str, unit_price: int, quantity: int = 1, *categories: str) -> PricingLine:
    return PricingLine(sku=sku, product_id=f"p-{sku.lower()}", category_ids=frozenset(categories),
                       quantity=quantity, unit_price=unit_price)


def cart(*lines: PricingLine, shipping: int = 0, at: datetime = NOW, coupons: frozenset[str] = frozenset(),
         currency: str = "EUR") -> PricingContext:
    return PricingContext(lines=lines, currency=currency, at=at, shipping=shipping, coupon_codes=coupons)


def promo(promotion_id: str, text: str, version: int = 1, **more: object) -> ActivePromotion:
    return ActivePromotion(promotion_id=promotion_id, version=version, name=f"{promotion_id} name",
                           rule=parse(text), **more)  # type: ignore[arg-type]


def reasons(result: object) -> dict[str, str]:
    return {o.promotion_id: o.reason for o in result.trace}  # type: ignore[attr-defined]


def test_the_trace_explains_each_promotion_with_its_version_name_and_amount() -> None:
    result = price(cart(line("A", 1000)), [
        promo("ten", "when always then 10% off order", version=3),
        promo("none", "when always then 10% off lines(sku:ZZZ)", version=2),
    ])
    assert result.trace == (
        Outcome(promotion_id="none", version=2, name="none name", applied=False, amount=0,
                reason="nothing to discount"),
        Outcome(promotion_id="ten", version=3, name="ten name", applied=True, amount=100, reason="applied"),
    )


def test_a_promotion_that_is_not_combinable_is_skipped_but_later_ones_still_apply() -> None:
    result = price(cart(line("A", 10000)), [
        promo("first", "when always then 10% off order", priority=3),
        promo("clash", "when always then 20% off order", priority=2, not_combinable_with=frozenset({"first"})),
        promo("last", "when always then 5.00 EUR off order", priority=1),
    ])
    assert reasons(result) == {"first": "applied", "clash": "not combinable with first", "last": "applied"}
    assert result.discount == 1000 + 500
    clash = next(o for o in result.trace if o.promotion_id == "clash")
    assert (clash.applied, clash.amount) == (False, 0)


def test_not_combinable_is_checked_against_every_applied_promotion_in_both_directions() -> None:
    result = price(cart(line("A", 10000)), [
        promo("a", "when always then 1.00 EUR off order", priority=3),
        promo("b", "when always then 2.00 EUR off order", priority=2, not_combinable_with=frozenset({"x"})),
        promo("c", "when always then 3.00 EUR off order", priority=1, not_combinable_with=frozenset({"b"})),
        promo("x", "when always then 4.00 EUR off order", priority=0),
    ])
    assert reasons(result) == {"a": "applied", "b": "applied", "c": "not combinable with b",
                               "x": "not combinable with b"}


def test_a_promotion_that_discounted_nothing_does_not_block_what_it_is_not_combinable_with() -> None:
    result = price(cart(line("A", 1000)), [
        promo("empty", "when always then 10% off lines(sku:ZZZ)", priority=2, not_combinable_with=frozenset({"b"})),
        promo("b", "when always then 10% off order", priority=1),
    ])
    assert reasons(result) == {"empty": "nothing to discount", "b": "applied"}


@pytest.mark.parametrize(
    ("at", "reason"),
    [
        (NOW - timedelta(microseconds=1), "not started yet"),
        (NOW, "applied"),
        (NOW + timedelta(hours=1) - timedelta(microseconds=1), "applied"),
        (NOW + timedelta(hours=1), "ended"),
    ],
)
def test_a_schedule_starts_at_its_first_moment_and_ends_at_its_last(at: datetime, reason: str) -> None:
    timed = promo("timed", "when always then 10% off order", starts_at=NOW, ends_at=NOW + timedelta(hours=1))
    assert reasons(price(cart(line("A", 1000), at=at), [timed])) == {"timed": reason}


def test_an_open_ended_schedule_has_no_start_or_end() -> None:
    only_start = promo("s", "when always then 1% off order", starts_at=NOW - timedelta(days=1))
    only_end = promo("e", "when always then 1% off order", ends_at=NOW + timedelta(days=1))
    assert reasons(price(cart(line("A", 10000)), [only_start, only_end])) == {"s": "applied", "e": "applied"}


def test_a_coupon_promotion_applies_with_any_one_of_its_codes() -> None:
    coupon = promo("c", "when always then 10% off order", coupon_codes=frozenset({"ONE", "TWO"}))
    assert reasons(price(cart(line("A", 1000), coupons=frozenset({"two"})), [coupon])) == {"c": "applied"}
    assert reasons(price(cart(line("A", 1000), coupons=frozenset({"three"})), [coupon])) == {
        "c": "needs a coupon code"}


def test_the_result_itemises_line_order_and_shipping_discounts() -> None:
    result = price(cart(line("A", 3000, 1), line("B", 1000, 2), shipping=500), [
        promo("lines", "when always then 10% off lines(sku:A)", priority=3),
        promo("order", "when always then 10.00 EUR off order", priority=2),
        promo("ship", "when always then 2.00 EUR off shipping", priority=1),
    ])
    assert result.lines == (
        LineResult(index=0, sku="A", quantity=1, unit_price=3000, subtotal=3000,
                   applied=(Applied(promotion_id="lines", version=1, amount=300, level=Level.LINE),
                            Applied(promotion_id="order", version=1, amount=574, level=Level.ORDER)),
                   discount=874, total=2126),
        LineResult(index=1, sku="B", quantity=2, unit_price=1000, subtotal=2000,
                   applied=(Applied(promotion_id="order", version=1, amount=426, level=Level.ORDER),),
                   discount=426, total=1574),
    )
    assert result.order_adjustments == (Applied(promotion_id="order", version=1, amount=1000, level=Level.ORDER),)
    assert result.shipping_adjustments == (Applied(promotion_id="ship", version=1, amount=200, level=Level.SHIPPING),)
    assert (result.currency, result.subtotal, result.line_discount, result.order_discount, result.discount) == (
        "EUR", 5000, 300, 1000, 1300)
    assert (result.shipping, result.shipping_discount, result.total) == (500, 200, 5000 - 1300 + 500 - 200)


def test_a_promotion_that_gives_nothing_leaves_no_adjustments() -> None:
    result = price(cart(line("A", 1000), shipping=100), [promo("none", "when always then 10% off lines(sku:ZZZ)")])
    assert (result.order_adjustments, result.shipping_adjustments, result.lines[0].applied) == ((), (), ())
    assert (result.discount, result.total) == (0, 1100)


def test_a_cap_at_exactly_the_discount_changes_nothing_and_one_unit_less_caps_it() -> None:
    at_cap = promo("cap", "when always then 10% off order", max_discount_per_order=(Money(1000, "EUR"),))
    assert price(cart(line("A", 10000)), [at_cap]).discount == 1000
    below = promo("cap", "when always then 10% off order", max_discount_per_order=(Money(999, "EUR"),))
    result = price(cart(line("A", 5000), line("B", 5000)), [below])
    assert result.discount == 999
    assert [ln.discount for ln in result.lines] == [500, 499]


def test_a_zero_cap_turns_a_promotion_off_and_a_negative_one_is_refused() -> None:
    zero = promo("zero", "when always then 10% off order", max_discount_per_order=(Money(0, "EUR"),))
    assert reasons(price(cart(line("A", 1000)), [zero])) == {"zero": "nothing to discount"}
    with pytest.raises(InvalidPricingInput, match=r"^neg: a maximum discount per order must be zero or more$"):
        promo("neg", "when always then 10% off order", max_discount_per_order=(Money(-1, "EUR"),))


def test_one_promotion_may_be_handed_in_once_whatever_the_version() -> None:
    with pytest.raises(InvalidPricingInput, match=r"once"):
        price(cart(line("A", 100)), [promo("a", "when always then 1% off order", version=1),
                                     promo("a", "when always then 2% off order", version=2)])
    both = price(cart(line("A", 10000)), [promo("a", "when always then 1% off order"),
                                          promo("b", "when always then 1% off order")])
    assert reasons(both) == {"a": "applied", "b": "applied"}


def test_an_exclusive_group_tie_goes_to_the_higher_priority_member() -> None:
    low = promo("low", "when always then 5.00 EUR off order", exclusive_group="g", priority=1)
    high = promo("zhigh", "when always then 5.00 EUR off order", exclusive_group="g", priority=2)
    result = price(cart(line("A", 10000)), [low, high])
    assert reasons(result) == {"zhigh": "applied", "low": "exclusive group 'g': zhigh is better for the shopper"}


def test_promotions_outside_their_schedule_take_no_part_in_an_exclusive_choice() -> None:
    better_later = promo("later", "when always then 50% off order", exclusive_group="g", starts_at=NOW + timedelta(1))
    now = promo("now", "when always then 1% off order", exclusive_group="g")
    result = price(cart(line("A", 10000)), [better_later, now])
    assert reasons(result) == {"later": "not started yet", "now": "applied"}


def _exclusive_groups(count: int) -> list[ActivePromotion]:
    """Groups "a", "b" and fillers: deciding "a" before knowing "b" picks the wrong member of "a".

    "b1" (priority 9) takes 95.00 first. Judged alone, "a-percent" (10 % of 100.00) beats "a-amount"
    (8.00 off); after "b1" only 5.00 is left, and "a-amount" takes all of it while 10 % takes 0.50."""
    promotions = [
        promo("a-percent", "when always then 10% off order", exclusive_group="a"),
        promo("a-amount", "when always then 8.00 EUR off order", exclusive_group="a"),
        promo("b1", "when always then 95.00 EUR off order", exclusive_group="b", priority=9),
        promo("b2", "when always then 1.00 EUR off order", exclusive_group="b", priority=9),
    ]
    for group in range(count - 2):
        for member in range(2):
            promotions.append(promo(f"f{group}-{member}", "when always then 1% off lines(sku:NONE)",
                                    exclusive_group=f"filler{group}"))
    return promotions


def test_up_to_the_limit_every_combination_of_exclusive_groups_is_priced() -> None:
    assert MAX_COMBINATIONS == 2**8
    result = price(cart(line("A", 10000)), _exclusive_groups(8))
    assert reasons(result)["a-amount"] == "applied"
    assert reasons(result)["a-percent"] == "exclusive group 'a': a-amount is better for the shopper"
    assert result.total == 0


def test_past_the_limit_groups_are_decided_one_by_one_in_name_order() -> None:
    result = price(cart(line("A", 10000)), _exclusive_groups(9))
    assert reasons(result)["a-percent"] == "applied"
    assert reasons(result)["b1"] == "applied"
    assert result.total == 450


def test_two_actions_of_one_promotion_on_the_same_line_add_up_in_one_adjustment() -> None:
    result = price(cart(line("A", 10000), shipping=1000), [
        promo("double", "when always then 10% off lines(all) and 5.00 EUR off lines(all) and 50% off shipping"),
    ])
    assert result.lines[0].applied == (Applied(promotion_id="double", version=1, amount=1500, level=Level.LINE),)
    assert result.shipping_adjustments == (Applied(promotion_id="double", version=1, amount=500, level=Level.SHIPPING),)
    assert result.total == 10000 - 1500 + 500


def test_a_promotion_left_out_is_explained_as_not_applied_with_nothing_taken() -> None:
    result = price(cart(line("A", 10000)), [
        promo("later", "when always then 10% off order", version=2, starts_at=NOW + timedelta(days=1)),
        promo("coupon", "when always then 10% off order", coupon_codes=frozenset({"CODE"})),
        promo("loser", "when always then 1% off order", exclusive_group="g"),
        promo("winner", "when always then 20% off order", exclusive_group="g"),
    ])
    assert result.trace == (
        Outcome(promotion_id="coupon", version=1, name="coupon name", applied=False, amount=0,
                reason="needs a coupon code"),
        Outcome(promotion_id="later", version=2, name="later name", applied=False, amount=0,
                reason="not started yet"),
        Outcome(promotion_id="loser", version=1, name="loser name", applied=False, amount=0,
                reason="exclusive group 'g': winner is better for the shopper"),
        Outcome(promotion_id="winner", version=1, name="winner name", applied=True, amount=2000, reason="applied"),
    )
