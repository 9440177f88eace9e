"""The promotion rule tree refuses values that make no sense, each at its edge."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from domain.promotions.checks import FULL, amount_in, check_amounts
from domain.promotions.errors import InvalidRule
from domain.promotions.rules import (
    AllLines,
    Always,
    AmountOffLines,
    AmountOffOrder,
    AmountOffShipping,
    And,
    BundlePrice,
    BuyXGetY,
    ByAttribute,
    ByCategory,
    ByProduct,
    BySku,
    ChannelIs,
    CouponPresent,
    CurrencyIs,
    CustomerInGroup,
    DateWindow,
    Not,
    Or,
    PercentOffLines,
    PercentOffOrder,
    PercentOffShipping,
    QuantityAtLeast,
    Rule,
    SubtotalAtLeast,
)
from domain.shared.money import Money

T0 = datetime(2026, 1, 1, tzinfo=UTC)
EUR = (Money(500, "EUR"),)


@pytest.mark.parametrize(
    ("make", "what"),
    [
        (lambda v: BySku(sku=v), "a SKU"),
        (lambda v: ByProduct(product_id=v), "a product id"),
        (lambda v: ByCategory(category_id=v), "a category id"),
        (lambda v: ByAttribute(name=v, value="red"), "an attribute name"),
        (lambda v: ByAttribute(name="colour", value=v), "an attribute value"),
        (lambda v: CustomerInGroup(group=v), "a customer group"),
        (lambda v: CouponPresent(code=v), "a coupon code"),
        (lambda v: ChannelIs(channel=v), "a channel"),
    ],
)
@pytest.mark.parametrize("value", ["", " x", "x "])
def test_text_values_are_non_empty_and_unpadded(make, what: str, value: str) -> None:  # type: ignore[no-untyped-def]
    message = f"^{what} must be non-empty text without surrounding spaces, got {re.escape(repr(value))}$"
    with pytest.raises(InvalidRule, match=message):
        make(value)
    assert make("x") is not None


@pytest.mark.parametrize("basis_points", [0, FULL + 1, -1, True, 50.0])
@pytest.mark.parametrize(
    "make",
    [
        lambda bp: PercentOffLines(basis_points=bp, lines=AllLines()),
        lambda bp: PercentOffOrder(basis_points=bp),
        lambda bp: PercentOffShipping(basis_points=bp),
        lambda bp: BuyXGetY(buy=1, get=1, basis_points=bp, lines=AllLines()),
    ],
)
def test_a_percentage_is_one_basis_point_to_a_hundred_percent(make, basis_points: object) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidRule, match=r"^a percentage is 1\.\.10000 basis points \(0\.01 %\.\.100 %\), got "):
        make(basis_points)
    assert make(1) is not None
    assert make(FULL) is not None


@pytest.mark.parametrize("count", [0, -1, True, 1.0])
def test_counts_are_positive_integers(count: object) -> None:
    with pytest.raises(InvalidRule, match=fr"^a minimum quantity must be a positive integer, got {count!r}$"):
        QuantityAtLeast(lines=AllLines(), minimum=count)  # type: ignore[arg-type]
    with pytest.raises(InvalidRule, match=r"^'buy' must be a positive integer"):
        BuyXGetY(buy=count, get=1, basis_points=FULL, lines=AllLines())  # type: ignore[arg-type]
    with pytest.raises(InvalidRule, match=r"^'get' must be a positive integer"):
        BuyXGetY(buy=1, get=count, basis_points=FULL, lines=AllLines())  # type: ignore[arg-type]
    with pytest.raises(InvalidRule, match=r"^a limit must be a positive integer"):
        BuyXGetY(buy=1, get=1, basis_points=FULL, lines=AllLines(), limit=count)  # type: ignore[arg-type]
    assert QuantityAtLeast(lines=AllLines(), minimum=1).minimum == 1
    assert BuyXGetY(buy=1, get=1, basis_points=FULL, lines=AllLines(), limit=1).limit == 1


def test_amounts_name_each_currency_once_and_are_positive_unless_zero_is_allowed() -> None:
    with pytest.raises(InvalidRule, match=r"^an amount off needs an amount in at least one currency$"):
        AmountOffOrder(amounts=())
    with pytest.raises(InvalidRule, match=r"^an amount off names a currency twice: \['EUR', 'EUR'\]$"):
        AmountOffLines(amounts=(Money(1, "EUR"), Money(2, "EUR")), lines=AllLines())
    with pytest.raises(InvalidRule, match=r"^an amount off shipping must be positive$"):
        AmountOffShipping(amounts=(Money(0, "EUR"),))
    assert AmountOffShipping(amounts=(Money(1, "EUR"),)).amounts == (Money(1, "EUR"),)
    assert SubtotalAtLeast(amounts=(Money(0, "EUR"),)).amounts == (Money(0, "EUR"),)
    with pytest.raises(InvalidRule, match=r"^a subtotal threshold must be zero or more$"):
        SubtotalAtLeast(amounts=(Money(-1, "EUR"),))
    check_amounts((Money(1, "EUR"), Money(1, "USD")), "x")


def test_amount_in_picks_the_cart_s_currency_or_nothing() -> None:
    amounts = (Money(500, "EUR"), Money(600, "USD"))
    assert amount_in(amounts, "USD") == 600
    assert amount_in(amounts, "EUR") == 500
    assert amount_in(amounts, "GBP") is None


def test_a_currency_condition_names_a_known_currency() -> None:
    with pytest.raises(InvalidRule, match=r"^unsupported currency 'XYZ'$"):
        CurrencyIs(currency="XYZ")


def test_a_date_window_is_aware_has_an_end_and_ends_after_it_starts() -> None:
    with pytest.raises(InvalidRule, match=r"^a date window needs a start, an end or both$"):
        DateWindow()
    with pytest.raises(InvalidRule, match=r"^a date window needs timezone-aware datetimes$"):
        DateWindow(starts_at=datetime(2026, 1, 1))  # naive on purpose
    with pytest.raises(InvalidRule, match=r"timezone-aware"):
        DateWindow(ends_at=datetime(2026, 1, 1))  # naive on purpose
    with pytest.raises(InvalidRule, match=r"^a date window must end after it starts$"):
        DateWindow(starts_at=T0, ends_at=T0)
    assert DateWindow(starts_at=T0, ends_at=T0 + timedelta(microseconds=1)).ends_at is not None
    assert DateWindow(starts_at=T0).ends_at is None


def test_and_or_join_at_least_two_conditions() -> None:
    with pytest.raises(InvalidRule, match=r"^'and' joins at least two conditions$"):
        And(items=(Always(),))
    with pytest.raises(InvalidRule, match=r"^'or' joins at least two conditions$"):
        Or(items=(Always(),))
    assert len(And(items=(Always(), Not(item=Always()))).items) == 2
    assert len(Or(items=(Always(), Always())).items) == 2


def test_a_bundle_has_two_components_and_may_cost_nothing() -> None:
    with pytest.raises(InvalidRule, match=r"^a bundle has at least two components$"):
        BundlePrice(components=(AllLines(),), prices=EUR)
    assert BundlePrice(components=(AllLines(), AllLines()), prices=(Money(0, "EUR"),)).prices[0].amount == 0
    with pytest.raises(InvalidRule, match=r"^a bundle price must be zero or more$"):
        BundlePrice(components=(AllLines(), AllLines()), prices=(Money(-1, "EUR"),))


def test_a_rule_needs_an_action() -> None:
    with pytest.raises(InvalidRule, match=r"^a rule needs at least one action$"):
        Rule(when=Always(), then=())
    assert Rule(when=Always(), then=(PercentOffOrder(basis_points=1),)).then
