"""The text form of a rule: readable, parsed by hand, and ``parse(render(rule)) == rule`` for every rule."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.promotions import rules as r
from domain.promotions.errors import InvalidRule, ParseError
from domain.promotions.text import parse, parse_condition, render
from domain.shared.money import Money
from tests.support.promotion_strategies import rules

EXAMPLES = [
    "when subtotal >= 50.00 EUR and currency = EUR then 10.00 EUR off order",
    'when quantity(category:shoes) >= 1 and not coupon "SUMMER10" then 20% off lines(category:shoes)',
    "when quantity(all) >= 2 then buy 2 get 1 at 100% off lines(all) cheapest first limit 1",
    'when customer group "vip" or first order then free shipping and 12.5% off lines(attribute:colour=red)',
    'when channel = "app" and date from 2026-06-01T00:00:00+00:00 until 2026-07-01T00:00:00+02:00'
    " then bundle(sku:SHOE-40, category:socks) for 99.00 EUR, 12000 JPY",
    "when not (currency = USD or currency = GBP) and (first order and always) then 5.00 EUR off shipping",
]


@pytest.mark.parametrize("text", EXAMPLES)
def test_the_canonical_text_reads_back_to_itself(text: str) -> None:
    assert render(parse(text)) == text


def test_the_worked_example_becomes_the_expected_tree() -> None:
    rule = parse('when quantity(category:shoes) >= 1 and not coupon "SUMMER10" then 20% off lines(category:shoes)')
    shoes = r.ByCategory(category_id="shoes")
    assert rule == r.Rule(
        when=r.And(items=(r.QuantityAtLeast(lines=shoes, minimum=1), r.Not(item=r.CouponPresent(code="SUMMER10")))),
        then=(r.PercentOffLines(basis_points=2000, lines=shoes),),
    )


def test_whitespace_and_line_breaks_are_free() -> None:
    spaced = parse("when\n  subtotal>=50 EUR\nthen   10 EUR   off order")
    assert spaced == parse("when subtotal >= 50.00 EUR then 10.00 EUR off order")
    assert spaced.then == (r.AmountOffOrder(amounts=(Money(1000, "EUR"),)),)


def test_and_binds_tighter_than_or_and_parentheses_keep_nesting() -> None:
    a, b, c = r.FirstOrder(), r.CurrencyIs(currency="EUR"), r.Always()
    assert parse_condition("first order or currency = EUR and always") == r.Or(items=(a, r.And(items=(b, c))))
    nested = r.And(items=(r.And(items=(a, b)), c))
    assert render(r.Rule(when=nested, then=(r.PercentOffOrder(basis_points=100),))).startswith(
        "when (first order and currency = EUR) and always then"
    )
    assert parse_condition("(first order and currency = EUR) and always") == nested


def test_odd_names_are_quoted_and_escaped() -> None:
    rule = r.Rule(when=r.CouponPresent(code='say "hi"\\now'),
                  then=(r.PercentOffLines(basis_points=1, lines=r.ByCategory(category_id="Men's shoes")),))
    text = render(rule)
    assert text == 'when coupon "say \\"hi\\"\\\\now" then 0.01% off lines(category:"Men\'s shoes")'
    assert parse(text) == rule


@pytest.mark.parametrize(
    ("text", "position", "reason"),
    [
        ("when subtotal >= 50.00 then 1% off order", 23, "expected a currency code"),
        ("when subtotal >= 50.001 EUR then 1% off order", 17, "more than 2 decimals"),
        ("when always then 101% off order", 17, "basis points"),
        ("when always then 1% off everything", 24, "expected 'order', 'shipping' or 'lines(...)'"),
        ("when (first order then 1% off order", 18, "expected ')'"),
        ('when coupon "OPEN then 1% off order', 12, "unterminated quoted string"),
        ("when currency = XYZ then 1% off order", 16, "unsupported currency"),
        ("when date from 2026-06-01T00:00:00 then 1% off order", 15, "needs a UTC offset"),
        ("when date from 2026-07-01T00:00Z until 2026-06-01T00:00Z then free shipping", 5, "end after it starts"),
        ("when always then buy 2 get 1 at 50% off lines(all)", 50, "expected 'cheapest'"),
        ("when always then bundle(sku:A) for 1.00 EUR", 17, "at least two components"),
        ("when always then 1% off order 2% off order", 30, "expected 'and' and another action"),
        ("when sometimes then free shipping", 5, "expected a condition"),
        ("", 0, "expected 'when'"),
    ],
)
def test_errors_name_the_position_and_the_reason(text: str, position: int, reason: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse(text)
    assert (caught.value.position, reason in caught.value.reason) == (position, True), caught.value


def test_a_parse_error_is_a_domain_input_error_that_points_at_the_text() -> None:
    from domain.shared.errors import InvalidInput

    with pytest.raises(InvalidInput, match=r"(?s)at position 17.*\n  \s{17}\^"):
        parse("when always then 0% off order")


def test_rule_nodes_refuse_nonsense_values() -> None:
    with pytest.raises(InvalidRule):
        r.PercentOffOrder(basis_points=0)
    with pytest.raises(InvalidRule):
        r.AmountOffOrder(amounts=(Money(100, "EUR"), Money(200, "EUR")))
    with pytest.raises(InvalidRule):
        r.And(items=(r.Always(),))
    with pytest.raises(InvalidRule):
        r.DateWindow(starts_at=datetime(2026, 1, 1))  # naive
    with pytest.raises(InvalidRule):
        r.Rule(when=r.Always(), then=())
    assert r.DateWindow(ends_at=datetime(2026, 1, 1, tzinfo=UTC)).starts_at is None


@settings(max_examples=300)
@given(rules())
def test_render_then_parse_returns_the_same_rule(rule: r.Rule) -> None:
    assert parse(render(rule)) == rule


@given(st.text(max_size=60))
def test_any_text_either_parses_or_raises_a_parse_error(text: str) -> None:
    try:
        rule = parse(text)
    except ParseError:
        return
    assert parse(render(rule)) == rule


@given(rules(), st.data())
def test_a_truncated_rule_is_refused_with_a_position_inside_the_text(rule: r.Rule, data: st.DataObject) -> None:
    text = render(rule)
    cut = data.draw(st.integers(0, len(text) - 1))
    try:
        parse(text[:cut])  # a prefix may still be a rule ("... for 1.00 EUR, 2.00 USD" cut after EUR)
    except ParseError as error:
        position = error.position
    else:
        return
    assert 0 <= position <= cut


TOKENS = ["when", "then", "and", "or", "not", "(", ")", "always", "subtotal", ">=", "quantity", "customer", "group",
          "first", "order", "coupon", "currency", "=", "channel", "date", "from", "until", "all", "sku:", "category:",
          "attribute:", "colour=red", "off", "lines", "shipping", "free", "buy", "get", "at", "cheapest", "limit",
          "bundle", "for", ",", "1", "2", "10%", "12.5%", "0%", "50.00", "0.001", "EUR", "JPY", "XYZ", '"A"', '"',
          "2026-06-01T00:00:00Z", "2026-13-01T00:00:00Z", "2026-06-01"]


@settings(max_examples=300)
@given(st.lists(st.sampled_from(TOKENS), max_size=25))
def test_token_soup_either_parses_or_raises_a_parse_error(tokens: list[str]) -> None:
    text = " ".join(tokens)
    try:
        rule = parse(text)
    except ParseError as error:
        position = error.position
    else:
        assert parse(render(rule)) == rule
        return
    assert 0 <= position <= len(text)


@given(rules(), st.data())
def test_a_rule_with_a_word_dropped_or_repeated_parses_or_is_refused_cleanly(rule: r.Rule, data: st.DataObject) -> None:
    words = render(rule).split(" ")
    n = data.draw(st.integers(0, len(words) - 1))
    mutated = " ".join(words[:n] + words[n + 1 :] if data.draw(st.booleans()) else words[: n + 1] + words[n:])
    try:
        changed = parse(mutated)
    except ParseError as error:
        position = error.position
    else:
        assert parse(render(changed)) == changed
        return
    assert 0 <= position <= len(mutated)
