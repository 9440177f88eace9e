"""What the promotions engine is handed: cart lines and circumstances, checked at their edges."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.promotions.context import PricingContext, PricingLine
from domain.promotions.errors import InvalidPricingInput

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def line(quantity: object = 1, unit_price: object = 500, sku: str = "SHOE-40") -> PricingLine:
    return PricingLine(sku=sku, product_id="p-shoe", quantity=quantity, unit_price=unit_price)  # type: ignore[arg-type]


def context(*lines: PricingLine, **more: object) -> PricingContext:
    return PricingContext(
        lines=lines,
        currency=more.pop("currency", "EUR"),
        at=more.pop("at", NOW),  # type: ignore[arg-type]
        **more,
    )  # type: ignore[arg-type]


def test_a_line_holds_one_unit_or_more_and_names_its_sku_when_it_does_not() -> None:
    assert line(quantity=1).quantity == 1
    for refused in (0, -1):
        with pytest.raises(InvalidPricingInput, match=r"^SHOE-40: quantity must be a positive integer$"):
            line(quantity=refused)


@pytest.mark.parametrize("quantity", [True, 1.0, "1", None])
def test_a_line_quantity_that_is_not_a_whole_number_is_refused(quantity: object) -> None:
    with pytest.raises(InvalidPricingInput, match="quantity must be a positive integer"):
        line(quantity=quantity)


def test_a_line_may_be_free_but_not_cheaper_than_free() -> None:
    assert line(unit_price=0).subtotal == 0
    with pytest.raises(InvalidPricingInput, match=r"^SHOE-40: unit price must be zero or more minor units$"):
        line(unit_price=-1)


@pytest.mark.parametrize("unit_price", [True, False, 5.0, "500", None])
def test_a_unit_price_that_is_not_whole_minor_units_is_refused(unit_price: object) -> None:
    with pytest.raises(InvalidPricingInput, match="unit price must be zero or more minor units"):
        line(unit_price=unit_price)


def test_a_line_subtotal_is_its_quantity_times_its_unit_price() -> None:
    assert line(quantity=3, unit_price=250).subtotal == 750


def test_a_line_with_no_categories_or_attributes_has_none() -> None:
    bare = line()
    assert (bare.category_ids, dict(bare.attributes)) == (frozenset(), {})


def test_a_cart_subtotal_adds_up_its_lines_and_an_empty_cart_is_zero() -> None:
    assert context(line(quantity=2, unit_price=300), line(quantity=1, unit_price=45, sku="SOCK")).subtotal == 645
    assert context().subtotal == 0


def test_a_cart_knows_nothing_about_the_shopper_unless_told() -> None:
    bare = context()
    assert (
        bare.channel,
        bare.customer_id,
        bare.customer_groups,
        bare.first_order,
        bare.coupon_codes,
        bare.shipping,
    ) == (None, None, frozenset(), False, frozenset(), 0)


def test_an_unknown_currency_is_refused_by_name() -> None:
    with pytest.raises(InvalidPricingInput, match=r"^unsupported currency 'XYZ'$"):
        context(currency="XYZ")


def test_the_pricing_moment_must_carry_a_timezone() -> None:
    assert context(at=NOW).at == NOW
    with pytest.raises(InvalidPricingInput, match=r"^the pricing moment must be timezone-aware$"):
        context(at=datetime(2026, 6, 1, 12))  # a naive moment


def test_shipping_may_be_free_but_not_negative() -> None:
    assert context(shipping=0).shipping == 0
    assert context(shipping=1).shipping == 1
    with pytest.raises(InvalidPricingInput, match=r"^shipping must be zero or more minor units$"):
        context(shipping=-1)


@pytest.mark.parametrize("shipping", [True, False, 4.5, "450", None])
def test_shipping_that_is_not_whole_minor_units_is_refused(shipping: object) -> None:
    with pytest.raises(InvalidPricingInput, match="shipping must be zero or more minor units"):
        context(shipping=shipping)


def test_a_coupon_matches_whatever_case_the_shopper_typed_it_in() -> None:
    cart = context(coupon_codes=frozenset({"Summer10", "ß-deal"}))
    assert cart.has_coupon("SUMMER10")
    assert cart.has_coupon("summer10")
    assert cart.has_coupon("SS-DEAL")  # casefold, not lower: "ß" folds to "ss"
    assert not cart.has_coupon("SUMMER1")
    assert not context().has_coupon("SUMMER10")
