from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.shared.money import CurrencyMismatch, InvalidCurrency, Money, Rounding, round_minor, round_ratio


def test_amounts_are_integer_minor_units_of_a_known_currency() -> None:
    assert Money.parse("12.50", "EUR") == Money(1250, "EUR")
    assert Money.parse("1200", "JPY") == Money(1200, "JPY")
    assert Money.parse("1.005", "KWD") == Money(1005, "KWD")


def test_floats_and_unknown_currencies_are_refused() -> None:
    with pytest.raises(TypeError):
        Money(12.5, "EUR")  # type: ignore[arg-type]
    with pytest.raises(InvalidCurrency):
        Money(100, "XXX")
    with pytest.raises(InvalidCurrency):
        Money.parse("1.234", "EUR")


def test_mixed_currencies_never_combine() -> None:
    with pytest.raises(CurrencyMismatch):
        _ = Money(100, "EUR") + Money(100, "USD")
    with pytest.raises(CurrencyMismatch):
        _ = Money(100, "EUR") < Money(100, "GBP")


def test_rounding_happens_in_one_named_function() -> None:
    assert round_minor(Fraction(5, 2)) == 2  # banker's: half to even
    assert round_minor(Fraction(7, 2)) == 4
    assert round_minor(Fraction(5, 2), Rounding.HALF_UP) == 3
    assert Money(999, "EUR").scaled(Fraction(19, 100)) == Money(190, "EUR")


def test_a_ratio_rounds_exactly_ties_to_even_or_away_from_zero() -> None:
    # (numerator, denominator): half to even, half up
    cases = {
        (5, 2): (2, 3), (7, 2): (4, 4), (-5, 2): (-2, -3), (-7, 2): (-4, -4),  # ties
        (1, 2): (0, 1), (-1, 2): (0, -1), (3, 2): (2, 2), (-3, 2): (-2, -2),
        (7, 3): (2, 2), (8, 3): (3, 3), (-7, 3): (-2, -2), (-8, 3): (-3, -3),  # not ties
        (6, 3): (2, 2), (-6, 3): (-2, -2), (0, 7): (0, 0),  # whole
        (10**30 + 1, 2 * 10**30): (1, 1), (10**30 - 1, 2 * 10**30): (0, 0),  # beyond any Decimal precision
    }
    for (numerator, denominator), (even, up) in cases.items():
        assert round_ratio(numerator, denominator) == even, (numerator, denominator)
        assert round_ratio(numerator, denominator, Rounding.HALF_EVEN) == even, (numerator, denominator)
        assert round_ratio(numerator, denominator, Rounding.HALF_UP) == up, (numerator, denominator)
        assert round_minor(Fraction(numerator, denominator)) == even
    with pytest.raises(ValueError, match="positive"):
        round_ratio(1, 0)
    with pytest.raises(ValueError, match="positive"):
        round_ratio(1, -2)


@given(st.integers(-(10**12), 10**12), st.integers(1, 10**6), st.sampled_from(list(Rounding)))
def test_a_ratio_rounds_as_exact_decimal_arithmetic_would(numerator: int, denominator: int, rounding: Rounding) -> None:
    mode = ROUND_HALF_EVEN if rounding is Rounding.HALF_EVEN else ROUND_HALF_UP
    with localcontext() as exact:
        exact.prec = 60  # far more digits than these values have: the quotient is decided exactly
        expected = int((Decimal(numerator) / Decimal(denominator)).quantize(Decimal(1), rounding=mode))
    assert round_ratio(numerator, denominator, rounding) == expected
    assert round_minor(Fraction(numerator, denominator), rounding) == expected


@given(st.integers(min_value=0, max_value=10**9), st.lists(st.integers(1, 1000), min_size=1, max_size=20))
def test_allocation_splits_exactly(amount: int, weights: list[int]) -> None:
    parts = Money(amount, "EUR").allocate(weights)
    assert sum(p.amount for p in parts) == amount
    assert all(p.amount >= 0 for p in parts)


def test_display_follows_the_locale() -> None:
    assert Money(123456, "EUR").display("en") == "€1,234.56"
    assert Money(123456, "EUR").display("de-DE") == "1\u202f234,56\u00a0€"
    assert Money(500, "JPY").display() == "¥500"
