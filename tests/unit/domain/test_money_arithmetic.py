"""Money: arithmetic, comparisons, rounding, allocation and display, each pinned on both sides."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.shared.money import (
    CurrencyMismatch,
    InvalidCurrency,
    Money,
    Rounding,
    currency_exponent,
    is_currency,
    round_minor,
)

amounts = st.integers(min_value=-(10**12), max_value=10**12)


def eur(amount: int) -> Money:
    return Money(amount, "EUR")


@given(amounts, amounts)
def test_adding_and_subtracting_work_on_the_minor_units_and_keep_the_currency(a: int, b: int) -> None:
    assert eur(a) + eur(b) == Money(a + b, "EUR")
    assert eur(a) - eur(b) == Money(a - b, "EUR")
    assert Money(a, "JPY") + Money(b, "JPY") == Money(a + b, "JPY")
    assert (Money(a, "JPY") - Money(b, "JPY")).currency == "JPY"


def test_subtraction_is_not_addition() -> None:
    assert eur(500) - eur(200) == eur(300)
    assert eur(200) - eur(500) == eur(-300)
    assert (eur(200) - eur(500)).is_negative


def test_negation_flips_the_sign_and_keeps_the_currency() -> None:
    assert -Money(250, "GBP") == Money(-250, "GBP")
    assert -Money(-250, "GBP") == Money(250, "GBP")
    assert -Money(0, "JPY") == Money(0, "JPY")


def test_times_multiplies_by_a_quantity_and_keeps_the_currency() -> None:
    assert Money(199, "USD").times(3) == Money(597, "USD")
    assert Money(199, "USD").times(0) == Money(0, "USD")
    assert Money(7, "JPY").times(2) == Money(14, "JPY")


def test_zero_is_zero_minor_units_of_the_currency() -> None:
    assert Money.zero("EUR") == Money(0, "EUR")
    assert Money.zero("JPY") == Money(0, "JPY")
    assert not Money.zero("EUR").is_negative


def test_is_negative_only_below_zero() -> None:
    assert eur(-1).is_negative
    assert not eur(0).is_negative
    assert not eur(1).is_negative


@given(amounts, amounts)
def test_comparisons_order_amounts_of_one_currency(a: int, b: int) -> None:
    assert (eur(a) < eur(b)) is (a < b)
    assert (eur(a) <= eur(b)) is (a <= b)
    assert (eur(a) > eur(b)) is (a > b)
    assert (eur(a) >= eur(b)) is (a >= b)


def test_comparisons_at_equality() -> None:
    assert not eur(100) < eur(100)
    assert eur(100) <= eur(100)
    assert not eur(100) > eur(100)
    assert eur(100) >= eur(100)
    assert eur(99) < eur(100)
    assert not eur(101) <= eur(100)


@pytest.mark.parametrize(
    "combine",
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a < b,
        lambda a, b: a <= b,
        lambda a, b: a > b,
        lambda a, b: a >= b,
    ],
    ids=["add", "sub", "lt", "le", "gt", "ge"],
)
def test_every_operation_refuses_a_second_currency_and_names_both(combine) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CurrencyMismatch, match=r"cannot combine EUR and USD"):
        combine(eur(100), Money(100, "USD"))


def test_exponents_come_from_the_iso_table_and_unknown_codes_are_refused_by_name() -> None:
    assert currency_exponent("EUR") == 2
    assert currency_exponent("JPY") == 0
    assert currency_exponent("KWD") == 3
    assert is_currency("EUR")
    assert not is_currency("XXX")
    with pytest.raises(InvalidCurrency, match=r"unsupported currency 'XXX'"):
        currency_exponent("XXX")
    with pytest.raises(InvalidCurrency, match=r"'eur'"):
        Money(1, "eur")


def test_a_bool_is_not_an_amount_and_the_refusal_says_why() -> None:
    with pytest.raises(TypeError, match=r"int of minor units"):
        Money(True, "EUR")
    with pytest.raises(TypeError, match=r"int of minor units"):
        Money(Decimal("1.00"), "EUR")  # type: ignore[arg-type]


def test_parse_reads_the_currency_s_digits_and_refuses_more() -> None:
    assert Money.parse("0.01", "EUR") == eur(1)
    assert Money.parse("-3.10", "EUR") == eur(-310)
    assert Money.parse("12", "JPY") == Money(12, "JPY")
    assert Money.parse("0.001", "BHD") == Money(1, "BHD")
    with pytest.raises(InvalidCurrency, match=r"0.001 has more than 2 decimals for EUR"):
        Money.parse("0.001", "EUR")
    with pytest.raises(InvalidCurrency, match=r"1.5 has more than 0 decimals for JPY"):
        Money.parse("1.5", "JPY")


def test_round_minor_rounds_half_to_even_by_default_and_half_up_on_request() -> None:
    assert round_minor(Fraction(1, 2)) == 0
    assert round_minor(Fraction(3, 2)) == 2
    assert round_minor(Fraction(-5, 2)) == -2
    assert round_minor(Fraction(1, 2), Rounding.HALF_UP) == 1
    assert round_minor(Fraction(-5, 2), Rounding.HALF_UP) == -3
    assert round_minor(Fraction(49, 100), Rounding.HALF_UP) == 0
    assert round_minor(Fraction(51, 100)) == 1
    assert round_minor(Decimal("2.5")) == 2
    assert round_minor(Decimal("2.5"), Rounding.HALF_UP) == 3
    assert round_minor(7) == 7


def test_scaled_multiplies_exactly_and_rounds_once_half_even_unless_told() -> None:
    assert eur(5).scaled(Fraction(1, 2)) == eur(2)
    assert eur(7).scaled(Fraction(1, 2)) == eur(4)
    assert eur(5).scaled(Fraction(1, 2), Rounding.HALF_UP) == eur(3)
    assert Money(1000, "JPY").scaled(Fraction(8, 100)) == Money(80, "JPY")


def test_allocation_gives_the_leftover_unit_to_the_largest_remainder_not_the_largest_share() -> None:
    # 4 × 2/5 = 1.6 and 4 × 3/5 = 2.4: the first part's .6 wins the leftover unit.
    assert eur(4).allocate([2, 3]) == [eur(2), eur(2)]
    # equal remainders: the earlier part wins
    assert eur(1).allocate([1, 1]) == [eur(1), eur(0)]
    assert eur(10).allocate([1, 1, 1]) == [eur(4), eur(3), eur(3)]
    assert Money(5, "JPY").allocate([1]) == [Money(5, "JPY")]


def test_allocation_refuses_weights_that_add_up_to_nothing() -> None:
    with pytest.raises(ValueError, match=r"positive"):
        eur(100).allocate([0, 0])
    with pytest.raises(ValueError, match=r"positive"):
        eur(100).allocate([])
    with pytest.raises(ValueError, match=r"positive"):
        eur(100).allocate([1, -2])
    assert eur(100).allocate([0, 1]) == [eur(0), eur(100)]


@given(st.integers(0, 10**9), st.lists(st.integers(0, 1000), min_size=1, max_size=12).filter(lambda w: sum(w) > 0))
def test_every_allocated_part_is_its_exact_share_rounded_down_or_up_by_the_largest_remainders(
    amount: int, weights: list[int]
) -> None:
    parts = [p.amount for p in Money(amount, "EUR").allocate(weights)]
    total = sum(weights)
    assert sum(parts) == amount
    floors = [amount * w // total for w in weights]
    bumped = [i for i, (part, floor) in enumerate(zip(parts, floors, strict=True)) if part == floor + 1]
    assert all(part in (floor, floor + 1) for part, floor in zip(parts, floors, strict=True))
    if bumped:
        remainders = [(amount * w) % total for w in weights]
        lowest_bumped = min(remainders[i] for i in bumped)
        assert all(remainders[i] <= lowest_bumped for i in range(len(weights)) if i not in bumped)


def test_decimal_places_the_point_by_the_currency() -> None:
    assert eur(1250).decimal() == Decimal("12.50")
    assert Money(1250, "JPY").decimal() == Decimal("1250")
    assert Money(1250, "KWD").decimal() == Decimal("1.250")


def test_display_uses_the_currency_symbol_or_its_code() -> None:
    assert Money(1999, "USD").display() == "$19.99"
    assert Money(1999, "GBP").display() == "£19.99"
    assert Money(1999, "CHF").display() == "CHF 19.99"
    assert Money(1999, "CHF").display("de") == "19,99\u00a0CHF"


def test_display_puts_the_sign_in_front_of_negative_amounts_only() -> None:
    assert eur(-1999).display() == "-€19.99"
    assert eur(-1).display() == "-€0.01"
    assert eur(0).display() == "€0.00"
    assert eur(-123456).display("fr") == "-1\u202f234,56\u00a0€"


@pytest.mark.parametrize("locale", ["de", "fr-FR", "es", "it-IT", "NL", "pt-BR"])
def test_display_uses_a_decimal_comma_in_continental_locales(locale: str) -> None:
    assert eur(123456).display(locale) == "1\u202f234,56\u00a0€"


@pytest.mark.parametrize("locale", ["en", "en-GB", "ja", "sv"])
def test_display_uses_a_decimal_point_elsewhere(locale: str) -> None:
    assert eur(123456).display(locale) == "€1,234.56"
