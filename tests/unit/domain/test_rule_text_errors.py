"""A rule text that cannot be read is refused with the reason, the position and the line, caret under it."""

from __future__ import annotations

import pytest

from domain.promotions.errors import ParseError
from domain.promotions.text import parse, parse_condition


def test_the_message_gives_the_reason_the_position_and_a_caret_under_the_offending_character() -> None:
    error = ParseError("expected 'then'", text="when always thn free shipping", position=12)
    assert str(error) == ("expected 'then' at position 12\n  when always thn free shipping\n              ^")
    assert (error.reason, error.position) == ("expected 'then'", 12)


def test_on_a_text_of_several_lines_only_the_offending_line_is_shown() -> None:
    text = "when always\nthen 0% off order\nand free shipping"
    error = ParseError("zero", text=text, position=17)  # the "0" of "0%", column 5 of line 2
    assert str(error).splitlines() == ["zero at position 17", "  then 0% off order", "       ^"]


def test_an_error_on_the_first_line_shows_that_line_up_to_its_break() -> None:
    error = ParseError("bad", text="when sometimes\nthen free shipping", position=5)
    assert str(error).splitlines() == ["bad at position 5", "  when sometimes", "       ^"]


def test_an_error_on_the_last_line_shows_it_to_the_end_of_the_text() -> None:
    error = ParseError("bad", text="when always\nthen nothing", position=17)
    assert str(error).splitlines() == ["bad at position 17", "  then nothing", "       ^"]


def test_an_error_at_the_very_start_puts_the_caret_under_the_first_character() -> None:
    error = ParseError("expected 'when'", text="then free shipping", position=0)
    assert str(error).splitlines() == ["expected 'when' at position 0", "  then free shipping", "  ^"]


def test_an_error_at_the_end_of_the_text_points_just_past_its_last_character() -> None:
    error = ParseError("the text ended", text="when\nalways", position=11)
    assert str(error).splitlines() == ["the text ended at position 11", "  always", "        ^"]


def test_an_error_right_at_a_line_break_points_at_the_end_of_that_line() -> None:
    error = ParseError("expected 'then'", text="when always\nfree shipping", position=11)
    assert str(error).splitlines() == ["expected 'then' at position 11", "  when always", "             ^"]


def test_an_error_on_an_empty_line_between_others_shows_that_empty_line() -> None:
    error = ParseError("blank", text="when always\n\nthen free shipping", position=12)
    assert str(error).splitlines() == ["blank at position 12", "  ", "  ^"]


def test_parsing_a_rule_written_over_several_lines_points_into_the_right_line() -> None:
    with pytest.raises(ParseError) as caught:
        parse("when always\nthen 10% off everything")
    assert caught.value.position == 25
    assert caught.value.reason.startswith("expected 'order', 'shipping' or 'lines(...)'")
    assert str(caught.value).splitlines()[1:] == ["  then 10% off everything", "               ^"]


def test_an_error_on_the_third_line_shows_the_third_line_not_the_two_above() -> None:
    error = ParseError("bad", text="a\nbb\ncccc", position=6)
    assert str(error).splitlines() == ["bad at position 6", "  cccc", "   ^"]


def test_an_error_on_the_first_of_three_lines_shows_only_the_first() -> None:
    error = ParseError("bad", text="a\nbb\ncccc", position=0)
    assert str(error).splitlines() == ["bad at position 0", "  a", "  ^"]


def test_a_text_opening_with_a_line_break_shows_the_empty_first_line_for_an_error_at_its_start() -> None:
    assert str(ParseError("bad", text="\nwhen always", position=0)) == "bad at position 0\n  \n  ^"


def test_a_text_opening_with_a_line_break_shows_the_second_line_for_an_error_on_it() -> None:
    with pytest.raises(ParseError) as caught:
        parse("\nwhen sometimes then free shipping")
    assert caught.value.position == 6
    assert str(caught.value).splitlines()[1:] == ["  when sometimes then free shipping", "       ^"]


ACTION = "expected an action (a percentage, an amount, 'buy', 'bundle' or 'free shipping')"
TARGET = "expected 'order', 'shipping' or 'lines(...)'"
SELECTOR = "expected a line selector (all, sku:, product:, category:, attribute:)"


@pytest.mark.parametrize(
    ("text", "position", "reason"),
    [
        # what was found is quoted, twelve characters of it at most; at the end, "the text ended"
        ("wh always then free shipping", 0, "expected 'when' but found 'wh always th'"),
        ("whenalways then free shipping", 0, "expected 'when' but found 'whenalways t'"),
        ("   ", 3, "expected 'when' but the text ended"),
        ("when always thenx free shipping", 12, "expected 'then' but found 'thenx free s'"),
        ("when alwaysx then free shipping", 5, "expected a condition but found 'alwaysx then'"),
        ("when not then free shipping", 9, "expected a condition but found 'then free sh'"),
        ("when always or then free shipping", 15, "expected a condition but found 'then free sh'"),
        ("when always and then free shipping", 16, "expected a condition but found 'then free sh'"),
        ("when (always then free shipping", 13, "expected ')' but found 'then free sh'"),
        # conditions
        ("when subtotal > 50.00 EUR then free shipping", 14, "expected '>=' but found '> 50.00 EUR '"),
        ("when subtotal >= EUR then free shipping", 17, "expected an amount such as 10.00 but found 'EUR then fre'"),
        (
            "when subtotal >= 50.00 eur then free shipping",
            23,
            "expected a currency code such as EUR but found 'eur then fre'",
        ),
        ("when subtotal >= 50.001 EUR then free shipping", 17, "50.001 has more than 2 decimals for EUR"),
        ("when subtotal >= 5.5 JPY then free shipping", 17, "5.5 has more than 0 decimals for JPY"),
        (
            "when subtotal >= 50.00 EUR, 10.00 EUR then free shipping",
            5,
            "a subtotal threshold names a currency twice: ['EUR', 'EUR']",
        ),
        ("when subtotal >= 50.00 XYZ then free shipping", 23, "unsupported currency 'XYZ'"),
        ("when quantity(all) >= 0 then free shipping", 22, "expected a positive whole number"),
        ("when quantity(all) >= x then free shipping", 22, "expected a whole number but found 'x then free '"),
        ("when quantity all) >= 1 then free shipping", 14, "expected '(' but found 'all) >= 1 th'"),
        ("when quantity(all >= 1 then free shipping", 18, "expected ')' but found '>= 1 then fr'"),
        ("when quantity(everything) >= 1 then free shipping", 14, f"{SELECTOR} but found 'everything) '"),
        ("when quantity(sku SHOE) >= 1 then free shipping", 18, "expected ':' but found 'SHOE) >= 1 t'"),
        (
            "when quantity(sku:) >= 1 then free shipping",
            18,
            "expected a name or a quoted string but found ') >= 1 then '",
        ),
        ("when quantity(attribute:colour) >= 1 then free shipping", 30, "expected '=' but found ') >= 1 then '"),
        (
            'when quantity(attribute:" colour"=red) >= 1 then free shipping',
            14,
            "an attribute name must be non-empty text without surrounding spaces, got ' colour'",
        ),
        (
            'when quantity(sku:" A") >= 1 then free shipping',
            14,
            "a SKU must be non-empty text without surrounding spaces, got ' A'",
        ),
        (
            'when always then bundle(sku:A, product:" B") for 1.00 EUR',
            31,
            "a product id must be non-empty text without surrounding spaces, got ' B'",
        ),
        (
            'when customer group " vip" then free shipping',
            5,
            "a customer group must be non-empty text without surrounding spaces, got ' vip'",
        ),
        (
            'when coupon "" then free shipping',
            5,
            "a coupon code must be non-empty text without surrounding spaces, got ''",
        ),
        (
            'when channel = " app" then free shipping',
            5,
            "a channel must be non-empty text without surrounding spaces, got ' app'",
        ),
        ("when customer vip then free shipping", 14, "expected 'group' but found 'vip then fre'"),
        ('when customer group "vip then free shipping', 20, "unterminated quoted string"),
        ("when first then free shipping", 11, "expected 'order' but found 'then free sh'"),
        ("when currency EUR then free shipping", 14, "expected '=' but found 'EUR then fre'"),
        ("when currency = XYZ then free shipping", 16, "unsupported currency 'XYZ'"),
        ("when channel app then free shipping", 13, "expected '=' but found 'app then fre'"),
        (
            "when date from tomorrow then free shipping",
            15,
            "expected an ISO 8601 date-time such as 2026-06-01T00:00:00+00:00 but found 'tomorrow the'",
        ),
        (
            "when date from 2026-13-01T00:00:00Z then free shipping",
            15,
            "'2026-13-01T00:00:00Z' is not an ISO 8601 date-time",
        ),
        ("when date until 2026-06-01 then free shipping", 16, "a date-time needs a UTC offset (such as +00:00 or Z)"),
        ("when date then free shipping", 5, "a date window needs a start, an end or both"),
        # actions
        ("when always then", 16, f"{ACTION} but the text ended"),
        ("when always then x", 17, f"{ACTION} but found 'x'"),
        ("when always then 10% off lines(all) and", 39, f"{ACTION} but the text ended"),
        (
            "when always then 10% off order 5% off order",
            31,
            "expected 'and' and another action or the end but found '5% off order'",
        ),
        ("when always then free delivery", 22, "expected 'shipping' but found 'delivery'"),
        ("when always then 10% off", 24, f"{TARGET} but the text ended"),
        ("when always then 0% off order", 17, "a percentage is 1..10000 basis points (0.01 %..100 %), got 0"),
        ("when always then 10.123% off order", 17, "a percentage has at most two decimals"),
        ("when always then 10.001 EUR off order", 17, "10.001 has more than 2 decimals for EUR"),
        (
            'when always then 10% off lines(category:"shoes ")',
            31,
            "a category id must be non-empty text without surrounding spaces, got 'shoes '",
        ),
        ("when always then 10 off order", 20, "expected a currency code such as EUR but found 'off order'"),
        ("when always then 10.00 EUR order", 27, "expected 'off' but found 'order'"),
        ("when always then 10.00 EUR off lines", 36, "expected '(' but the text ended"),
        ("when always then 10.00 EUR off lines(all", 40, "expected ')' but the text ended"),
        ("when always then 10.00 EUR, off order", 28, "expected an amount such as 10.00 but found 'off order'"),
        ("when always then 10.00 EUR, 5.00 EUR off order", 17, "an amount off names a currency twice: ['EUR', 'EUR']"),
        ("when always then 0.00 EUR off order", 17, "an amount off must be positive"),
        ("when always then buy 0 get 1 at 100% off lines(all) cheapest first", 21, "expected a positive whole number"),
        (
            "when always then buy 2 1 at 100% off lines(all) cheapest first",
            23,
            "expected 'get' but found '1 at 100% of'",
        ),
        (
            "when always then buy 2 get 1 100% off lines(all) cheapest first",
            29,
            "expected 'at' but found '100% off lin'",
        ),
        (
            "when always then buy 2 get 1 at off lines(all) cheapest first",
            32,
            "expected a percentage such as 20% but found 'off lines(al'",
        ),
        (
            "when always then buy 2 get 1 at 100 off lines(all) cheapest first",
            36,
            "expected '%' but found 'off lines(al'",
        ),
        (
            "when always then buy 2 get 1 at 12.345% off lines(all) cheapest first",
            32,
            "a percentage has at most two decimals",
        ),
        (
            "when always then buy 2 get 1 at 150% off lines(all) cheapest first",
            17,
            "a percentage is 1..10000 basis points (0.01 %..100 %), got 15000",
        ),
        (
            "when always then buy 2 get 1 at 100% lines(all) cheapest first",
            37,
            "expected 'off' but found 'lines(all) c'",
        ),
        ("when always then buy 2 get 1 at 100% off order cheapest first", 41, f"{TARGET} but found 'order cheape'"),
        ("when always then buy 2 get 1 at 100% off lines(all) cheapest", 60, "expected 'first' but the text ended"),
        (
            "when always then buy 2 get 1 at 100% off lines(all) cheapest first limit",
            72,
            "expected a whole number but the text ended",
        ),
        (
            "when always then buy 2 get 1 at 100% off lines(all) cheapest first limit 0",
            73,
            "expected a positive whole number",
        ),
        ("when always then bundle sku:A for 1.00 EUR", 24, "expected '(' but found 'sku:A for 1.'"),
        ("when always then bundle(sku:A, sku:B for 1.00 EUR", 37, "expected ')' but found 'for 1.00 EUR'"),
        ("when always then bundle(sku:A, sku:B) 1.00 EUR", 38, "expected 'for' but found '1.00 EUR'"),
        ("when always then bundle(sku:A, sku:B) for", 41, "expected an amount such as 10.00 but the text ended"),
    ],
)
def test_each_refusal_names_what_was_expected_what_was_found_and_where(text: str, position: int, reason: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse(text)
    assert (caught.value.position, caught.value.reason) == (position, reason)


@pytest.mark.parametrize(
    ("text", "position", "reason"),
    [
        ("always always", 7, "expected the end of the condition but found 'always'"),
        ("always )", 7, "expected the end of the condition but found ')'"),
        ("", 0, "expected a condition but the text ended"),
        ("(always", 7, "expected ')' but the text ended"),
    ],
)
def test_a_condition_alone_is_refused_the_same_way(text: str, position: int, reason: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_condition(text)
    assert (caught.value.position, caught.value.reason) == (position, reason)


@pytest.mark.parametrize(
    "text",
    [
        'when coupon "abc\\',  # a backslash as the very last character escapes nothing
        'when coupon "abc\\"',  # the closing quote is escaped: the string never ends
    ],
)
def test_a_quoted_string_left_open_by_an_escape_at_the_end_is_unterminated(text: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse(text)
    assert (caught.value.position, caught.value.reason) == (12, "unterminated quoted string")
