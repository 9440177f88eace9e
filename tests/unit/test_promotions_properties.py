"""Properties of the engine over random carts and random promotions: nothing goes negative, no discount
exceeds what it discounts, the trace adds up, and the order promotions arrive in changes nothing."""

from __future__ import annotations

import math
from fractions import Fraction
from random import Random

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.promotions.checks import amount_in
from domain.promotions.effects import Level, allocate
from domain.promotions.engine import ActivePromotion, PricingContext, price
from domain.shared.money import round_minor
from tests.support.promotion_strategies import contexts, promotion_lists


@settings(max_examples=300)
@given(contexts, promotion_lists())
def test_discounts_never_exceed_what_they_discount_and_totals_add_up(
    context: PricingContext, promotions: list[ActivePromotion],
) -> None:
    result = price(context, promotions)
    for priced, line in zip(result.lines, context.lines, strict=True):
        assert priced.subtotal == line.quantity * line.unit_price
        assert 0 <= priced.discount <= priced.subtotal
        assert priced.total == priced.subtotal - priced.discount >= 0
        assert sum(a.amount for a in priced.applied) == priced.discount
        assert all(a.amount > 0 and a.level in {Level.LINE, Level.ORDER} for a in priced.applied)
    assert 0 <= result.shipping_discount <= result.shipping == context.shipping
    assert sum(a.amount for a in result.shipping_adjustments) == result.shipping_discount
    assert sum(a.amount for a in result.order_adjustments) == result.order_discount
    assert result.line_discount + result.order_discount == result.discount <= result.subtotal
    assert result.line_discount >= 0
    assert result.order_discount >= 0
    assert result.total == result.subtotal - result.discount + result.shipping - result.shipping_discount >= 0
    assert sum(o.amount for o in result.trace) == result.discount + result.shipping_discount


@settings(max_examples=200)
@given(contexts, promotion_lists(), st.randoms(use_true_random=False))
def test_the_result_does_not_depend_on_the_order_promotions_are_given_in(
    context: PricingContext, promotions: list[ActivePromotion], random: Random,
) -> None:
    shuffled = list(promotions)
    random.shuffle(shuffled)
    assert price(context, shuffled) == price(context, promotions)
    assert price(context, reversed(promotions)) == price(context, promotions)


@settings(max_examples=200)
@given(contexts, promotion_lists())
def test_stacking_rules_hold(context: PricingContext, promotions: list[ActivePromotion]) -> None:
    result = price(context, promotions)
    by_id = {p.promotion_id: p for p in promotions}
    applied = [by_id[o.promotion_id] for o in result.trace if o.applied]
    groups = [p.exclusive_group for p in applied if p.exclusive_group is not None]
    assert len(groups) == len(set(groups)), "at most one promotion per exclusive group"
    for p in applied:
        assert not any(q.promotion_id in p.not_combinable_with for q in applied if q is not p)
        cap = amount_in(p.max_discount_per_order, context.currency)
        outcome = next(o for o in result.trace if o.promotion_id == p.promotion_id)
        assert cap is None or outcome.amount <= cap
        assert not p.coupon_codes or any(context.has_coupon(code) for code in p.coupon_codes)


@settings(max_examples=100)
@given(contexts, promotion_lists())
def test_no_exclusive_group_loser_would_have_left_the_shopper_a_lower_total(
    context: PricingContext, promotions: list[ActivePromotion],
) -> None:
    result = price(context, promotions)
    for outcome in result.trace:
        if not outcome.reason.startswith("exclusive group"):
            continue
        loser = next(p for p in promotions if p.promotion_id == outcome.promotion_id)
        instead = [p for p in promotions if p.exclusive_group != loser.exclusive_group or p is loser]
        assert price(context, instead).total >= result.total


@given(st.fractions(min_value=0, max_value=10**6),
       st.lists(st.fractions(min_value=0, max_value=10**5, max_denominator=7), min_size=1, max_size=6))
def test_allocation_adds_up_and_never_exceeds_a_weight(total: Fraction, weights: list[Fraction]) -> None:
    parts = allocate(total, weights)
    assert len(parts) == len(weights)
    assert all(0 <= part <= -(-weight // 1) for part, weight in zip(parts, weights, strict=True))
    whole = sum(weights, Fraction(0))
    assert sum(parts) == (min(round_minor(total), math.floor(whole)) if whole > 0 else 0)
