"""What a promotion needs of a cart (``domain/promotions/selection.py``) and the index that finds the
candidates: each kind of key, the promotions every cart gets, coupon codes; and, over random carts and
promotions, that pricing under the candidates alone gives what pricing under all of them gives."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.promotions.engine import ActivePromotion, PricingContext, PricingLine, price
from domain.promotions.selection import PromotionIndex, cart_keys, needs
from domain.promotions.text import parse
from tests.support.promotion_strategies import (
    GROUPS,
    NOW,
    PROMOTION_IDS,
    cart_selectors,
    contexts,
    promotion_lists,
    rules,
    selectors,
)

SHOE = PricingLine(
    sku="SHOE-40",
    product_id="p-shoe",
    category_ids=frozenset({"shoes"}),
    attributes={"colour": "red"},
    quantity=1,
    unit_price=5000,
)


def _promotion(
    rule: str, *, id: str = "promo", group: str | None = None, codes: frozenset[str] = frozenset()
) -> ActivePromotion:
    return ActivePromotion(
        promotion_id=id, version=1, name=id, rule=parse(rule), exclusive_group=group, coupon_codes=codes
    )


def _keys(*lines: PricingLine, currency: str = "EUR", channel: str | None = "web", codes: tuple[str, ...] = ()):
    return cart_keys(lines, currency=currency, channel=channel, coupon_codes=codes)


def _candidate(promotion: ActivePromotion, keys) -> bool:
    index = PromotionIndex([(promotion.promotion_id, promotion, needs(promotion))])
    return index.candidates(keys) == [promotion]


@pytest.mark.parametrize(
    ("rule", "with_it", "without_it"),
    [
        ("when quantity(sku:SHOE-40) >= 1 then 10% off order", _keys(SHOE), _keys(replace(SHOE, sku="SHOE-41"))),
        (
            "when quantity(product:p-shoe) >= 2 then 10% off order",
            _keys(SHOE),
            _keys(replace(SHOE, product_id="p-sock")),
        ),
        (
            "when quantity(category:shoes) >= 1 then 10% off order",
            _keys(SHOE),
            _keys(replace(SHOE, category_ids=frozenset({"socks"}))),
        ),
        (
            "when quantity(attribute:colour=red) >= 1 then 10% off order",
            _keys(SHOE),
            _keys(replace(SHOE, attributes={"colour": "blue"})),
        ),
        ("when channel = web then 10% off order", _keys(SHOE), _keys(SHOE, channel="app")),
        ("when channel = web then 10% off order", _keys(SHOE), _keys(SHOE, channel=None)),
        ("when currency = EUR then 10% off order", _keys(SHOE), _keys(SHOE, currency="USD")),
        (
            "when subtotal >= 50.00 EUR, 60.00 USD then 10% off order",
            _keys(SHOE, currency="USD"),
            _keys(SHOE, currency="JPY"),
        ),
        ("when coupon summer then 10% off order", _keys(SHOE, codes=("SUMMER",)), _keys(SHOE, codes=("WINTER",))),
    ],
    ids=[
        "sku",
        "product",
        "category",
        "attribute",
        "channel",
        "no channel",
        "currency",
        "subtotal currency",
        "coupon, any case",
    ],
)
def test_a_promotion_is_a_candidate_for_the_carts_that_have_what_its_condition_names(
    rule: str,
    with_it,
    without_it,
) -> None:
    promotion = _promotion(rule)
    assert _candidate(promotion, with_it)
    assert not _candidate(promotion, without_it)


@pytest.mark.parametrize(
    "rule",
    [
        "when always then 10% off order",
        "when customer group vip then free shipping",
        "when first order then 10% off lines(all)",
        "when date from 2026-01-01T00:00:00+00:00 then 10% off order",
        "when not quantity(sku:SHOE-41) >= 1 then 10% off order",
        "when quantity(sku:SHOE-41) >= 1 or first order then 10% off order",
        "when quantity(all) >= 3 then 10% off order",
    ],
)
def test_a_promotion_whose_condition_names_nothing_a_cart_has_is_a_candidate_for_every_cart(rule: str) -> None:
    promotion = _promotion(rule)
    assert needs(promotion).always
    assert _candidate(promotion, _keys(replace(SHOE, sku="X", product_id="Y"), currency="JPY", channel=None))


def test_an_or_needs_one_key_of_any_branch_and_an_and_needs_every_part() -> None:
    either = _promotion("when quantity(sku:SHOE-41) >= 1 or coupon WELCOME then 10% off order")
    assert _candidate(either, _keys(replace(SHOE, sku="SHOE-41")))
    assert _candidate(either, _keys(SHOE, codes=("welcome",)))
    assert not _candidate(either, _keys(SHOE))
    both = _promotion("when currency = USD and quantity(sku:SHOE-40) >= 1 then 10% off order")
    assert _candidate(both, _keys(SHOE, currency="USD"))
    assert not _candidate(both, _keys(SHOE))  # the SKU it is filed under, in the wrong currency


def test_codes_the_terms_require_are_needed_in_any_case() -> None:
    promotion = _promotion("when always then 10% off order", codes=frozenset({"SUMMER10", "WELCOME"}))
    assert _candidate(promotion, _keys(SHOE, codes=("welcome",)))
    assert not _candidate(promotion, _keys(SHOE, codes=("OTHER",)))


def test_outside_an_exclusive_group_a_promotion_needs_a_line_or_currency_its_actions_could_discount() -> None:
    lines_only = _promotion("when always then 10% off lines(category:socks) and 5.00 USD off order")
    assert not _candidate(lines_only, _keys(SHOE))
    assert _candidate(lines_only, _keys(replace(SHOE, category_ids=frozenset({"socks"}))))
    assert _candidate(lines_only, _keys(SHOE, currency="USD"))
    bundle = _promotion("when always then bundle(sku:SHOE-40, sku:SOCK) for 60.00 EUR")
    assert not _candidate(bundle, _keys(SHOE))  # one component has no line
    assert _candidate(bundle, _keys(SHOE, replace(SHOE, sku="SOCK")))
    assert needs(_promotion("when always then free shipping")).always
    grouped = _promotion("when always then 10% off lines(category:socks)", group="seasonal")
    assert needs(grouped).always  # a member that gives nothing may still be its group's best choice


def test_an_amount_off_lines_needs_its_currency_and_a_line_it_selects() -> None:
    socks = replace(SHOE, sku="SOCK", category_ids=frozenset({"socks"}))
    amount_off = _promotion("when always then 5.00 EUR off lines(category:socks)")
    assert not _candidate(amount_off, _keys(SHOE))  # the currency, but no sock to take the amount off
    assert not _candidate(amount_off, _keys(socks, currency="USD"))  # a sock, but no amount in USD
    assert _candidate(amount_off, _keys(SHOE, socks))


def test_a_group_member_that_gives_nothing_stays_a_candidate_because_choosing_it_can_be_best() -> None:
    nothing = _promotion("when always then 10% off lines(sku:SOCK)", id="a", group="g")
    blocker = replace(
        _promotion("when always then 1.00 EUR off order", id="b", group="g"),
        priority=2,
        not_combinable_with=frozenset({"c"}),
    )
    half = _promotion("when always then 50% off order", id="c")
    promotions = [nothing, blocker, half]
    context = PricingContext(lines=(SHOE,), currency="EUR", channel="web", at=NOW)
    index = PromotionIndex([(p.promotion_id, p, needs(p)) for p in promotions])
    chosen = index.candidates(_keys(SHOE))
    assert chosen == promotions
    assert price(context, chosen).total == price(context, promotions).total == 2500  # "a" chosen, "c" applies
    assert price(context, [blocker, half]).total == 4900  # what leaving "a" out would have given


def test_the_index_finds_each_promotion_under_its_keys_keeps_their_order_and_adds_the_named_ones() -> None:
    promotions = [
        _promotion("when quantity(sku:SHOE-40) >= 1 then 10% off order", id="a"),
        _promotion("when quantity(sku:SOCK) >= 1 then 10% off order", id="b"),
        _promotion("when always then 10% off order", id="c"),
        _promotion("when quantity(category:shoes) >= 1 and channel = web then 10% off order", id="d"),
        _promotion("when coupon WELCOME then 10% off order", id="e"),
    ]
    index = PromotionIndex([(p.promotion_id, p.promotion_id, needs(p)) for p in reversed(promotions)])
    assert len(index) == 5
    assert index.candidates(_keys(SHOE)) == ["d", "c", "a"]
    assert index.candidates(_keys(SHOE, channel="app")) == ["c", "a"]
    assert index.candidates(_keys(SHOE, codes=("Welcome",))) == ["e", "d", "c", "a"]
    assert index.candidates(_keys(SHOE, channel="app"), also=["b", "gone"]) == ["c", "b", "a"]


# --- the candidates price the cart exactly as every promotion would ------------------------------------

wide_rules = rules(st.one_of(cart_selectors, selectors()), currencies=("EUR", "JPY", "USD"))


# Promotions naming what carts have and what they do not, in and out of exclusive groups.
wide_promotion_lists = promotion_lists(
    wide_rules, promotion_ids=(*PROMOTION_IDS, "promo-f", "promo-g", "promo-h"), max_size=8
)


@settings(max_examples=400)
@given(contexts, wide_promotion_lists, st.frozensets(st.sampled_from(GROUPS)))
def test_pricing_under_the_candidates_alone_gives_what_pricing_under_every_promotion_gives(
    context: PricingContext,
    promotions: list[ActivePromotion],
    groups: frozenset[str],
) -> None:
    context = replace(context, customer_groups=groups, at=NOW)
    index = PromotionIndex([(p.promotion_id, p, needs(p)) for p in promotions])
    keys = cart_keys(
        context.lines, currency=context.currency, channel=context.channel, coupon_codes=context.coupon_codes
    )
    chosen = index.candidates(keys)
    everything, selected = price(context, promotions), price(context, chosen)
    kept = {p.promotion_id for p in chosen}
    assert replace(selected, trace=()) == replace(everything, trace=())
    assert selected.trace == tuple(o for o in everything.trace if o.promotion_id in kept)
    assert not any(o.applied for o in everything.trace if o.promotion_id not in kept)
