"""Price lists, the unit price a shopper pays, tax rates and tax bases: each rule at its edges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.catalog.pricing import Price, PriceList, PriceListChanged, Sale, Tier, resolve_price, unit_price
from domain.catalog.product import CatalogError
from domain.shared.money import InvalidCurrency, Money, round_minor
from domain.tax.discounts import tax_bases
from domain.tax.rates import (
    EXEMPT,
    REDUCED,
    REDUCED_2,
    SEEDED_US_STATES,
    STANDARD,
    SUPER_REDUCED,
    TAX_CLASSES,
    US_STATES,
    ZERO,
    InvalidTaxRate,
    RateTable,
    TaxDestination,
    TaxRate,
    UnknownTaxClass,
    UntaxedDestination,
    check_tax_class,
    state_rate,
    tax_in,
    tax_on,
)

T0 = datetime(2026, 5, 1, tzinfo=UTC)
T1 = T0 + timedelta(days=1)
SALE = Sale(amount=700, starts_at=T0, ends_at=T1)


def test_a_sale_runs_from_its_start_to_just_before_its_end() -> None:
    assert not SALE.is_on(T0 - timedelta(microseconds=1))
    assert SALE.is_on(T0)
    assert SALE.is_on(T1 - timedelta(microseconds=1))
    assert not SALE.is_on(T1)


def test_the_unit_price_is_the_lowest_of_base_best_tier_reached_and_running_sale() -> None:
    price = Price(sku="A", amount=1000, tiers=(Tier(min_quantity=5, amount=900), Tier(min_quantity=10, amount=800)),
                  sale=SALE)
    assert unit_price(price, 1, T0 - timedelta(days=1)) == 1000
    assert unit_price(price, 4, T1) == 1000
    assert unit_price(price, 5, T1) == 900
    assert unit_price(price, 10, T1) == 800
    assert unit_price(price, 1, T0) == 700
    assert unit_price(price, 10, T0) == 700
    cheap_tier = Price(sku="A", amount=1000, tiers=(Tier(min_quantity=2, amount=500),), sale=SALE)
    assert unit_price(cheap_tier, 2, T0) == 500


def test_a_price_list_refuses_an_unknown_currency() -> None:
    with pytest.raises(InvalidCurrency):
        PriceList(id="pl", name="x", currency="XYZ")


def test_setting_prices_records_them_and_one_event_with_the_sorted_skus() -> None:
    price_list = PriceList(id="pl-1", name="Retail", currency="EUR", channel="web")
    assert (price_list.version, price_list.prices, price_list.changed, price_list.events) == (0, {}, set(), [])
    b, a = Price(sku="B", amount=200), Price(sku="A", amount=100)
    price_list.set_prices([b, a], now=T0)
    assert price_list.prices == {"B": b, "A": a}
    assert (price_list.version, price_list.changed) == (1, {"A", "B"})
    assert price_list.pull_events() == [PriceListChanged(aggregate_id="pl-1", aggregate_version=1, occurred_at=T0,
                                                         currency="EUR", channel="web", skus=("A", "B"))]
    assert PriceListChanged.topic == "catalog.price_list_changed.v1"


def test_removing_a_price_records_it_and_removing_a_missing_one_does_nothing() -> None:
    price_list = PriceList(id="pl-1", name="Retail", currency="EUR", prices={"A": Price(sku="A", amount=100)},
                           version=4)
    price_list.remove_price("A", now=T0)
    assert (price_list.prices, price_list.changed, price_list.version) == ({}, {"A"}, 5)
    (event,) = price_list.pull_events()
    assert isinstance(event, PriceListChanged)
    assert (event.skus, event.channel, event.aggregate_version) == (("A",), None, 5)
    price_list.remove_price("A", now=T1)
    assert (price_list.version, price_list.pull_events()) == (5, [])


@pytest.mark.parametrize(
    ("price", "message"),
    [
        (Price(sku="A", amount=-1), "^A: a price cannot be negative$"),
        (Price(sku="A", amount=1, tiers=(Tier(min_quantity=2, amount=-1),)), "^A: a price cannot be negative$"),
        (Price(sku="A", amount=1, sale=Sale(amount=-1, starts_at=T0, ends_at=T1)), "cannot be negative"),
        (Price(sku="A", amount=1, tiers=(Tier(min_quantity=1, amount=1),)),
         "^A: tiers start at 2 units or more, each at a different quantity$"),
        (Price(sku="A", amount=9, tiers=(Tier(min_quantity=3, amount=1), Tier(min_quantity=3, amount=2))),
         "each at a different quantity"),
        (Price(sku="A", amount=1, sale=Sale(amount=1, starts_at=T0, ends_at=T0)),
         r"^A: a sale must end after it starts$"),
    ],
)
def test_a_bad_price_is_refused_and_nothing_of_the_batch_is_set(price: Price, message: str) -> None:
    price_list = PriceList(id="pl", name="x", currency="EUR")
    with pytest.raises(CatalogError, match=message):
        price_list.set_prices([Price(sku="OK", amount=1), price], now=T0)
    assert (price_list.prices, price_list.version, price_list.changed) == ({}, 0, set())


def test_free_items_and_a_sale_ending_a_moment_after_it_starts_are_fine() -> None:
    price_list = PriceList(id="pl", name="x", currency="EUR")
    price_list.set_prices([
        Price(sku="FREE", amount=0, tiers=(Tier(min_quantity=2, amount=0),),
              sale=Sale(amount=0, starts_at=T0, ends_at=T0 + timedelta(microseconds=1))),
    ], now=T0)
    assert price_list.prices["FREE"].amount == 0


def lists() -> list[PriceList]:
    return [
        PriceList(id="b-all", name="all", currency="EUR", prices={"A": Price(sku="A", amount=1000),
                                                                  "B": Price(sku="B", amount=500)}),
        PriceList(id="a-all", name="all, first by id", currency="EUR", prices={"B": Price(sku="B", amount=450)}),
        PriceList(id="app", name="app", currency="EUR", channel="app", prices={"A": Price(sku="A", amount=900)}),
        PriceList(id="usd", name="usd", currency="USD", prices={"A": Price(sku="A", amount=1200)}),
    ]


def test_the_channel_s_own_list_wins_over_the_list_for_every_channel() -> None:
    assert resolve_price(lists(), sku="A", currency="EUR", channel="app", quantity=1, at=T0) == Money(900, "EUR")
    assert resolve_price(lists(), sku="A", currency="EUR", channel="web", quantity=1, at=T0) == Money(1000, "EUR")
    assert resolve_price(lists(), sku="A", currency="EUR", channel=None, quantity=1, at=T0) == Money(1000, "EUR")
    assert resolve_price(lists(), sku="B", currency="EUR", channel="app", quantity=1, at=T0) == Money(450, "EUR")


def test_prices_are_never_converted_between_currencies() -> None:
    assert resolve_price(lists(), sku="A", currency="USD", channel=None, quantity=1, at=T0) == Money(1200, "USD")
    assert resolve_price(lists(), sku="B", currency="USD", channel=None, quantity=1, at=T0) is None
    assert resolve_price(lists(), sku="Z", currency="EUR", channel="app", quantity=1, at=T0) is None


def test_resolving_uses_the_quantity_for_tiers_and_refuses_none() -> None:
    tiered = [PriceList(id="pl", name="x", currency="EUR",
                        prices={"A": Price(sku="A", amount=1000, tiers=(Tier(min_quantity=3, amount=800),))})]
    assert resolve_price(tiered, sku="A", currency="EUR", channel=None, quantity=3, at=T0) == Money(800, "EUR")
    assert resolve_price(tiered, sku="A", currency="EUR", channel=None, quantity=2, at=T0) == Money(1000, "EUR")
    for quantity in (0, -1):
        with pytest.raises(CatalogError, match=r"^quantity must be positive$"):
            resolve_price(tiered, sku="A", currency="EUR", channel=None, quantity=quantity, at=T0)


# -- tax -------------------------------------------------------------------------------------------


GERMAN = TaxRate(country="DE", region=None, tax_class=STANDARD, basis_points=1900, name="MwSt")


def test_tax_contained_in_and_added_on_round_once_half_to_even() -> None:
    assert tax_in(11900, GERMAN) == 1900
    assert tax_in(119, GERMAN) == 19
    assert tax_on(10000, GERMAN) == 1900
    assert tax_on(50, TaxRate(country="X", region=None, tax_class=STANDARD, basis_points=1000, name="t")) == 5
    assert tax_on(25, TaxRate(country="X", region=None, tax_class=STANDARD, basis_points=1000, name="t")) == 2
    assert tax_on(35, TaxRate(country="X", region=None, tax_class=STANDARD, basis_points=1000, name="t")) == 4
    assert GERMAN.fraction == Fraction(19, 100)


@given(st.integers(-(10**9), 10**9), st.integers(0, 10_000))
def test_tax_is_the_exact_rate_of_the_amount_rounded_once(amount: int, basis_points: int) -> None:
    rate = TaxRate(country="X", region=None, tax_class=STANDARD, basis_points=basis_points, name="t")
    share = Fraction(basis_points, 10_000)
    assert tax_in(amount, rate) == round_minor(Fraction(amount) * share / (1 + share))
    assert tax_on(amount, rate) == round_minor(Fraction(amount) * share)


def test_tax_in_an_amount_that_splits_on_a_half_goes_to_the_even_cent() -> None:
    ten = TaxRate(country="X", region=None, tax_class=STANDARD, basis_points=1000, name="t")
    assert tax_in(55, ten) == 5  # 55 / 11 = 5 exactly
    assert tax_in(605, ten) == 55
    assert tax_in(-605, ten) == -55  # a refund's tax
    twenty_five = TaxRate(country="X", region=None, tax_class=STANDARD, basis_points=2500, name="t")
    assert tax_in(10, twenty_five) == 2  # 10 × 0.25 / 1.25 = 2
    assert tax_in(25, twenty_five) == 5
    assert tax_in(-25, twenty_five) == -5
    assert tax_in(5, twenty_five) == 1  # 1 exactly
    assert tax_in(3, twenty_five) == 1  # 0.6
    assert tax_in(2, twenty_five) == 0  # 0.4
    hundred = TaxRate(country="X", region=None, tax_class=STANDARD, basis_points=10_000, name="t")
    assert tax_in(5, hundred) == 2  # 2.5: half to even
    assert tax_in(7, hundred) == 4  # 3.5
    assert tax_in(-5, hundred) == -2
    assert tax_on(-25, TaxRate(country="X", region=None, tax_class=STANDARD, basis_points=1000, name="t")) == -2


def test_the_seeded_us_states_are_sales_tax_added_on_top() -> None:
    table = RateTable(SEEDED_US_STATES)
    ca = table.rate(country="US", region="CA", tax_class=STANDARD)
    assert ca == TaxRate(country="US", region="CA", tax_class=STANDARD, basis_points=725, name="CA sales tax",
                         included_in_prices=False)
    assert {(r.region, r.basis_points) for r in SEEDED_US_STATES} == {("CA", 725), ("NY", 400), ("TX", 625),
                                                                       ("WA", 650)}
    assert {(r.country, r.tax_class, r.name, r.included_in_prices) for r in SEEDED_US_STATES} == {
        ("US", STANDARD, f"{r.region} sales tax", False) for r in SEEDED_US_STATES}
    assert table.destination(country="US", region="NY") == TaxDestination(country="US", region="NY",
                                                                          prices_include_tax=False)
    assert table.destination(country="US", region="OR") is None  # a state the merchant keeps no rate for
    assert table.destination(country="US", region=None) is None


def test_a_region_s_own_rate_wins_and_a_missing_class_falls_back_to_standard() -> None:
    table = RateTable([
        TaxRate(country="US", region=None, tax_class=STANDARD, basis_points=100, name="federal"),
        TaxRate(country="US", region="CA", tax_class=STANDARD, basis_points=725, name="CA"),
        TaxRate(country="DE", region=None, tax_class=STANDARD, basis_points=1900, name="MwSt"),
        TaxRate(country="DE", region=None, tax_class=REDUCED, basis_points=700, name="MwSt reduced"),
    ])
    assert table.rate(country="US", region="CA", tax_class=STANDARD).name == "CA"  # type: ignore[union-attr]
    assert table.rate(country="US", region="NV", tax_class=STANDARD).name == "federal"  # type: ignore[union-attr]
    assert table.rate(country="US", region="CA", tax_class=REDUCED).name == "CA"  # type: ignore[union-attr]
    assert table.rate(country="DE", region="BY", tax_class=REDUCED).basis_points == 700  # type: ignore[union-attr]
    assert table.rate(country="DE", region=None, tax_class=REDUCED_2).basis_points == 1900  # type: ignore[union-attr]
    assert table.rate(country="DE", region=None, tax_class=SUPER_REDUCED).name == "MwSt"  # type: ignore[union-attr]
    assert table.rate(country="FR", region=None, tax_class=STANDARD) is None
    assert table.rate(country="FR", region=None, tax_class=REDUCED) is None
    assert table.classes(country="DE") == {STANDARD: GERMAN, REDUCED: TaxRate(
        country="DE", region=None, tax_class=REDUCED, basis_points=700, name="MwSt reduced")}
    assert table.destination(country="DE", region="BY") == TaxDestination(country="DE", region="BY",
                                                                          prices_include_tax=True)
    assert table.classes(country="US", region="CA") == {STANDARD: TaxRate(
        country="US", region="CA", tax_class=STANDARD, basis_points=725, name="CA")}


def test_zero_rated_and_exempt_goods_carry_no_tax_where_the_destination_is_taxed() -> None:
    table = RateTable([GERMAN])
    zero = table.rate(country="DE", region="BE", tax_class=ZERO)
    assert zero == TaxRate(country="DE", region="BE", tax_class=ZERO, basis_points=0, name="zero-rated")
    exempt = table.rate(country="DE", region=None, tax_class=EXEMPT)
    assert exempt == TaxRate(country="DE", region=None, tax_class=EXEMPT, basis_points=0, name="exempt")
    us = RateTable(SEEDED_US_STATES).rate(country="US", region="TX", tax_class=ZERO)
    assert (us.basis_points, us.included_in_prices) == (0, False)  # type: ignore[union-attr]
    assert table.rate(country="FR", region=None, tax_class=ZERO) is None  # nowhere we cannot tax
    assert RateTable().rate(country="DE", region=None, tax_class=EXEMPT) is None


def test_a_tax_class_is_one_of_the_six_and_a_state_rate_a_known_state_within_range() -> None:
    assert [check_tax_class(c) for c in TAX_CLASSES] == list(TAX_CLASSES)
    with pytest.raises(UnknownTaxClass, match=r"^unknown tax class 'books' \(one of standard, reduced, "):
        check_tax_class("books")
    assert state_rate("OR", 0) == TaxRate(country="US", region="OR", tax_class=STANDARD, basis_points=0,
                                          name="OR sales tax", included_in_prices=False)
    assert state_rate("NJ", 2500, " NJ ").name == "NJ"
    assert state_rate("NJ", 663, "   ").name == "NJ sales tax"
    with pytest.raises(InvalidTaxRate, match=r"^'ZZ' is not a US state"):
        state_rate("ZZ", 100)
    for bad in (-1, 2501):
        with pytest.raises(InvalidTaxRate, match=r"between 0 and 2500 basis points"):
            state_rate("NJ", bad)
    with pytest.raises(InvalidTaxRate, match=r"at most 100 characters"):
        state_rate("NJ", 100, "x" * 101)
    assert state_rate("NJ", 100, "x" * 100).name == "x" * 100
    assert len(US_STATES) == 52
    untaxed = UntaxedDestination("US", "OR")
    assert (str(untaxed), untaxed.country, untaxed.region) == (
        "no tax rate is known for US-OR: we cannot sell to it", "US", "OR")
    assert (str(UntaxedDestination("JP", "")), UntaxedDestination("JP", "").region) == (
        "no tax rate is known for JP: we cannot sell to it", None)


def test_an_order_discount_is_spread_over_the_line_totals_without_losing_a_unit() -> None:
    assert tax_bases([3000, 2000], 1000, "EUR") == [2400, 1600]
    assert tax_bases([1, 1, 1], 2, "EUR") == [0, 0, 1]
    assert sum(tax_bases([333, 333, 334], 101, "EUR")) == 1000 - 101


def test_no_discount_or_nothing_to_spread_it_over_leaves_the_totals() -> None:
    assert tax_bases([3000, 2000], 0, "EUR") == [3000, 2000]
    assert tax_bases([0, 0], 100, "EUR") == [0, 0]
    assert tax_bases([], 100, "EUR") == []


def test_removing_a_price_is_dated() -> None:
    price_list = PriceList(id="pl", name="x", currency="EUR", prices={"A": Price(sku="A", amount=1)})
    price_list.remove_price("A", now=T1)
    assert [e.occurred_at for e in price_list.pull_events()] == [T1]


def test_a_discount_on_lines_worth_one_unit_in_all_is_still_spread() -> None:
    assert tax_bases([1, 0], 1, "EUR") == [0, 0]
    assert tax_bases([0, 1], 1, "EUR") == [0, 0]


def test_a_price_list_keeps_its_name_and_channel() -> None:
    price_list = PriceList(id="pl", name="Retail", currency="EUR")
    assert (price_list.name, price_list.channel) == ("Retail", None)
