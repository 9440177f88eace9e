"""``tax_bases``: an order-level discount spread over the lines, so each line is taxed on what is paid."""

from hypothesis import given
from hypothesis import strategies as st

from domain.tax.discounts import tax_bases


def test_no_discount_leaves_every_line_as_it_is() -> None:
    assert tax_bases([1000, 2500, 0], 0, "EUR") == [1000, 2500, 0]


def test_a_discount_is_spread_in_proportion_to_the_line_totals() -> None:
    assert tax_bases([1000, 3000], 400, "EUR") == [900, 2700]


def test_a_discount_equal_to_the_total_leaves_nothing_to_tax() -> None:
    assert tax_bases([1999, 1, 500], 2500, "EUR") == [0, 0, 0]


def test_the_leftover_minor_unit_goes_to_the_line_with_the_largest_remainder() -> None:
    # 10 over 100 + 200: 3.33 and 6.67; the odd cent goes to the second line.
    assert tax_bases([100, 200], 10, "EUR") == [97, 193]


def test_leftover_units_of_equal_remainders_go_to_the_first_lines() -> None:
    assert tax_bases([1, 1, 1], 2, "EUR") == [0, 0, 1]


def test_a_currency_without_minor_units_is_spread_the_same_way() -> None:
    assert tax_bases([333, 667], 100, "JPY") == [300, 600]


def test_lines_without_a_positive_total_take_no_discount() -> None:
    assert tax_bases([0, 0], 50, "EUR") == [0, 0]
    assert tax_bases([], 50, "EUR") == []


@given(st.lists(st.integers(min_value=0, max_value=10**7), min_size=1, max_size=20), st.data())
def test_the_bases_add_up_to_the_total_less_the_discount_without_losing_a_unit(totals, data) -> None:
    discount = data.draw(st.integers(min_value=0, max_value=sum(totals)))
    bases = tax_bases(totals, discount, "EUR")
    assert len(bases) == len(totals)
    if sum(totals) > 0:
        assert sum(bases) == sum(totals) - discount
    assert all(0 <= base <= total for base, total in zip(bases, totals, strict=True))
