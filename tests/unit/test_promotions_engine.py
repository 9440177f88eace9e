"""Worked examples of the promotions engine: what the shopper pays, and the trace that explains it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest

from domain.promotions.effects import Level, allocate
from domain.promotions.engine import ActivePromotion, PricingContext, PricingLine, PricingResult, price
from domain.promotions.errors import InvalidPricingInput
from domain.promotions.text import parse
from domain.shared.money import Money

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def line(sku: str, unit_price: int, quantity: int = 1, *categories: str, **attributes: str) -> PricingLine:
    return PricingLine(sku=sku, product_id=f"p-{sku.lower()}", category_ids=frozenset(categories),
                       attributes=attributes, quantity=quantity, unit_price=unit_price)


def cart(*lines: PricingLine, currency: str = "EUR", shipping: int = 0, coupons: tuple[str, ...] = (),
         **more: object) -> PricingContext:
    return PricingContext(lines=lines, currency=currency, at=NOW, shipping=shipping,
                          coupon_codes=frozenset(coupons), **more)  # type: ignore[arg-type]


def promo(promotion_id: str, text: str, **more: object) -> ActivePromotion:
    return ActivePromotion(promotion_id=promotion_id, version=1, name=promotion_id, rule=parse(text),
                           **more)  # type: ignore[arg-type]


def why(result: PricingResult) -> dict[str, str]:
    return {outcome.promotion_id: outcome.reason for outcome in result.trace}


SHOES_20 = 'when quantity(category:shoes) >= 1 and not coupon "SUMMER10" then 20% off lines(category:shoes)'
SUMMER10 = 'when coupon "SUMMER10" then 10% off order'


def test_twenty_percent_off_shoes_but_not_with_summer10() -> None:
    basket = (line("SHOE", 8000, 1, "shoes"), line("SOCK", 1000, 2, "socks"))
    promotions = [promo("shoes20", SHOES_20, not_combinable_with=frozenset({"summer10"})),
                  promo("summer10", SUMMER10, coupon_codes=frozenset({"SUMMER10"}))]

    plain = price(cart(*basket), promotions)
    assert [(ln.discount, ln.total) for ln in plain.lines] == [(1600, 6400), (0, 2000)]
    assert plain.lines[0].applied[0].promotion_id == "shoes20"
    assert why(plain) == {"shoes20": "applied", "summer10": "needs a coupon code"}

    with_coupon = price(cart(*basket, coupons=("summer10",)), promotions)  # codes compare case-insensitively
    assert with_coupon.discount == 1000  # 10 % of the whole order, not 20 % of the shoes on top
    assert why(with_coupon) == {"shoes20": "conditions not met", "summer10": "applied"}
    assert [a.level for ln in with_coupon.lines for a in ln.applied] == [Level.ORDER, Level.ORDER]


def test_not_combinable_lists_work_in_both_directions_and_the_higher_priority_wins() -> None:
    basket = (line("SHOE", 8000, 1, "shoes"),)
    shoes = promo("shoes20", "when always then 20% off lines(category:shoes)", priority=1)
    summer = promo("summer10", "when always then 10% off order", not_combinable_with=frozenset({"shoes20"}))
    result = price(cart(*basket), [summer, shoes])
    assert result.discount == 1600
    assert why(result) == {"shoes20": "applied", "summer10": "not combinable with shoes20"}


BUY_2_GET_1 = "when quantity(all) >= 3 then buy 2 get 1 at 100% off lines(all) cheapest first limit 1"


def test_buy_two_get_the_cheapest_free_at_most_once_per_order() -> None:
    deal = promo("b2g1", BUY_2_GET_1)
    six = cart(line("TEE", 2000, 2), line("CAP", 1500, 1), line("SOCK", 500, 3))
    result = price(six, [deal])
    assert result.discount == 500  # six items would make two deals, the limit allows one: one sock is free
    assert [ln.discount for ln in result.lines] == [0, 0, 500]

    two = price(cart(line("TEE", 2000, 2)), [deal])
    assert (two.discount, why(two)) == (0, {"b2g1": "conditions not met"})

    three = price(cart(line("TEE", 2000, 1), line("CAP", 1500, 1), line("MUG", 900, 1)), [deal])
    assert [ln.discount for ln in three.lines] == [0, 0, 900]


def test_buy_x_get_y_without_a_limit_repeats_and_can_be_a_partial_discount() -> None:
    half_off = promo("b1g1", "when always then buy 1 get 1 at 50% off lines(sku:TEE) cheapest first")
    result = price(cart(line("TEE", 1999, 5), line("CAP", 100, 9)), [half_off])
    assert result.lines[0].discount == 1999  # two of five at half price: 2 x 999.5
    assert result.lines[1].discount == 0


def test_ten_euros_off_over_fifty_euros_in_eur_only() -> None:
    ten_off = promo("ten", "when subtotal >= 50.00 EUR and currency = EUR then 10.00 EUR off order")
    assert price(cart(line("A", 5000)), [ten_off]).total == 4000
    assert price(cart(line("A", 4999)), [ten_off]).total == 4999
    dollars = price(cart(line("A", 9000), currency="USD"), [ten_off])
    assert (dollars.total, why(dollars)) == (9000, {"ten": "conditions not met"})
    # the amount is spread over the lines in proportion, and the order-level record adds up
    split = price(cart(line("A", 3000), line("B", 6000)), [ten_off])
    assert [ln.discount for ln in split.lines] == [333, 667]
    assert [(a.promotion_id, a.amount) for a in split.order_adjustments] == [("ten", 1000)]
    assert (split.line_discount, split.order_discount, split.discount) == (0, 1000, 1000)


def test_an_exclusive_group_applies_the_promotion_best_for_the_shopper() -> None:
    percent = promo("percent", "when always then 10% off order", exclusive_group="seasonal", priority=5)
    amount = promo("amount", "when always then 15.00 EUR off order", exclusive_group="seasonal")
    small = price(cart(line("A", 10000)), [percent, amount])
    assert small.discount == 1500
    assert why(small) == {"percent": "exclusive group 'seasonal': amount is better for the shopper",
                          "amount": "applied"}
    large = price(cart(line("A", 30000)), [amount, percent])
    assert large.discount == 3000
    assert why(large)["percent"] == "applied"


def test_the_exclusive_choice_accounts_for_the_rest_of_the_stack() -> None:
    shipping = promo("ship", "when always then free shipping", priority=9)
    everything = promo("half", "when always then 50% off order", exclusive_group="g")
    free_ship = promo("fs", "when always then free shipping and 1% off order", exclusive_group="g")
    result = price(cart(line("A", 1000), shipping=2000), [shipping, everything, free_ship])
    # alone, "fs" is worth more (2010), but shipping is already free: "half" saves the shopper more
    assert (result.discount, result.shipping_discount, result.total) == (500, 2000, 500)


def test_a_discount_never_takes_anything_below_zero() -> None:
    huge = [promo("a", "when always then 500.00 EUR off lines(all)"),
            promo("b", "when always then 100% off order and 99.00 EUR off shipping"),
            promo("c", "when always then 30.00 EUR off order")]
    result = price(cart(line("A", 1000, 2), line("B", 1), shipping=450), huge)
    assert [ln.total for ln in result.lines] == [0, 0]
    assert (result.discount, result.shipping_discount, result.total) == (2001, 450, 0)
    assert why(result) == {"a": "applied", "b": "applied", "c": "nothing to discount"}


def test_max_discount_per_order_caps_one_promotion_in_the_carts_currency() -> None:
    capped = promo("cap", "when always then 50% off order and free shipping",
                   max_discount_per_order=(Money(2000, "EUR"),))
    result = price(cart(line("A", 10000), shipping=1000), [capped])
    assert result.discount + result.shipping_discount == 2000
    assert (result.discount, result.shipping_discount) == (1667, 333)  # split 5000 : 1000
    in_yen = price(cart(line("A", 10000), currency="JPY"), [capped])
    assert in_yen.discount == 5000  # no cap set for JPY


def test_stacking_follows_priority_and_each_promotion_sees_the_reduced_price() -> None:
    first = promo("z-first", "when always then 10% off lines(all)", priority=2)
    then = promo("a-then", "when always then 10.00 EUR off order", priority=1)
    result = price(cart(line("A", 10000)), [then, first])
    assert result.lines[0].applied[0].promotion_id == "z-first"
    assert result.total == 10000 - 1000 - 1000
    swapped = price(cart(line("A", 10000)),
                    [promo("a-then", "when always then 10.00 EUR off order", priority=2),
                     promo("z-first", "when always then 10% off lines(all)", priority=1)])
    assert swapped.total == 10000 - 1000 - 900


def test_equal_priorities_apply_in_promotion_id_order() -> None:
    b = promo("b", "when always then 50% off order")
    a = promo("a", "when always then 10.00 EUR off order")
    result = price(cart(line("A", 3000)), [b, a])
    assert [x.promotion_id for x in result.lines[0].applied] == ["a", "b"]
    assert result.total == 1000


def test_a_fixed_price_bundle() -> None:
    kit = promo("kit", "when always then bundle(category:shoes, category:socks) for 100.00 EUR")
    result = price(cart(line("SHOE", 9000, 1, "shoes"), line("SOCK", 2000, 3, "socks")), [kit])
    assert result.discount == 1000  # one shoe + one sock: 110.00 for 100.00
    assert [ln.discount for ln in result.lines] == [818, 182]
    cheaper_apart = price(cart(line("SHOE", 8000, 1, "shoes"), line("SOCK", 1000, 1, "socks")), [kit])
    assert cheaper_apart.discount == 0


def test_shipping_discounts_by_percent_and_amount() -> None:
    result = price(cart(line("A", 100), shipping=995),
                   [promo("half", "when always then 50% off shipping"),
                    promo("more", "when always then 3.00 EUR off shipping")])
    assert [a.amount for a in result.shipping_adjustments] == [498, 300]  # 497.5 rounds half to even: 498
    assert (result.shipping_discount, result.total) == (798, 100 + 995 - 798)


def test_schedules_coupons_and_shopper_conditions() -> None:
    rule = 'when customer group "vip" and channel = "app" and first order then 5% off order'
    vip = promo("vip", rule, starts_at=NOW, ends_at=NOW + timedelta(days=1))
    shopper = {"customer_groups": frozenset({"vip"}), "channel": "app", "first_order": True}
    assert price(cart(line("A", 1000), **shopper), [vip]).discount == 50
    assert why(price(cart(line("A", 1000)), [vip])) == {"vip": "conditions not met"}
    later = PricingContext(lines=(line("A", 1000),), currency="EUR", at=NOW + timedelta(days=1), **shopper)
    assert why(price(later, [vip])) == {"vip": "ended"}
    earlier = PricingContext(lines=(line("A", 1000),), currency="EUR", at=NOW - timedelta(seconds=1), **shopper)
    assert why(price(earlier, [vip])) == {"vip": "not started yet"}


def test_rounding_is_half_to_even_in_the_one_allocation_function() -> None:
    assert allocate(Fraction(5, 2), [10]) == [2]
    assert allocate(Fraction(7, 2), [10]) == [4]
    assert allocate(1000, [3000, 6000]) == [333, 667]
    assert allocate(100, [1, 1, 1]) == [1, 1, 1]  # never more than the weights hold
    assert allocate(2, [1, 1, 1]) == [1, 1, 0]  # ties go to the earlier weight
    assert sum(allocate(Fraction(1001, 3), [700, 1100, 1300])) == 334
    assert allocate(Fraction(1001, 3), [7, 11, 13]) == [7, 11, 13]  # capped at what there is


def test_the_engine_refuses_inconsistent_input() -> None:
    with pytest.raises(InvalidPricingInput):
        price(cart(line("A", 100)), [promo("a", "when always then 1% off order"),
                                     promo("a", "when always then 2% off order")])
    with pytest.raises(InvalidPricingInput):
        line("A", -1)
    with pytest.raises(InvalidPricingInput):
        PricingContext(lines=(), currency="EUR", at=datetime(2026, 1, 1))  # naive on purpose
