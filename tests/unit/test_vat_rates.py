"""The built-in tax adapter's European VAT (from the pinned data package) against rates written by hand."""

from __future__ import annotations

import pytest

from adapters.memory.tax import MemoryRegionalTaxRates
from adapters.system.tax import RateTableTax
from adapters.system.vat_rates import COVERED, DATA_VERSION, REGIONAL, european_vat_rates
from application.checkout.ports import Taxable
from domain.shipping.rates import EU, SEEDED_ZONES
from domain.tax.rates import (
    EXEMPT,
    REDUCED,
    STANDARD,
    ZERO,
    RateTable,
    TaxDestination,
    UntaxedDestination,
    state_rate,
)
from tests.support.vat_table import EU_MEMBERS, KNOWN

TABLE = RateTable(european_vat_rates())


def test_the_hand_written_table_covers_at_least_ten_countries_with_their_reduced_rates() -> None:
    assert len(KNOWN) >= 10
    assert sum(len(classes) > 1 for classes in KNOWN.values()) >= 10


@pytest.mark.parametrize("country", sorted(KNOWN))
def test_each_class_of_a_country_has_the_rate_written_by_hand(country: str) -> None:
    found = {tax_class: rate.basis_points for tax_class, rate in TABLE.classes(country=country).items()}
    assert found == KNOWN[country]


def test_every_eu_member_state_the_uk_norway_and_switzerland_are_covered_and_nothing_else() -> None:
    assert set(EU_MEMBERS) | {"GB", "NO", "CH"} == COVERED
    assert {rate.country for rate in european_vat_rates()} == COVERED
    for country in COVERED:
        assert TABLE.destination(country=country, region=None) == TaxDestination(
            country=country, region=None, prices_include_tax=True)
    for elsewhere in ("US", "JP", "IS", "XI", "LI"):
        assert TABLE.destination(country=elsewhere, region=None) is None
    assert DATA_VERSION == "2026-09-29"


def test_regional_rates_are_left_out_and_a_reduced_rate_is_not_repeated_as_super_reduced() -> None:
    france = {rate.basis_points for rate in TABLE.classes(country="FR").values()}
    assert not france & {90, 105, 850, 1300}  # Corsica and the overseas departments
    assert 1900 not in {rate.basis_points for rate in TABLE.classes(country="AT").values()}
    assert set(REGIONAL) == {"FR", "AT", "PT", "GR"}
    assert "super-reduced" not in TABLE.classes(country="PL")  # the package repeats the 8 % there
    assert "super-reduced" not in TABLE.classes(country="PT")


def test_a_class_a_country_lacks_pays_its_standard_rate() -> None:
    assert TABLE.rate(country="DK", region=None, tax_class=REDUCED).basis_points == 2500  # type: ignore[union-attr]
    assert TABLE.rate(country="DE", region=None, tax_class="reduced-2").basis_points == 1900  # type: ignore[union-attr]
    assert TABLE.rate(country="DE", region=None, tax_class=ZERO).basis_points == 0  # type: ignore[union-attr]
    assert TABLE.rate(country="NO", region=None, tax_class=EXEMPT).name == "exempt"  # type: ignore[union-attr]
    assert TABLE.rate(country="FR", region=None, tax_class=STANDARD).name == "TVA"  # type: ignore[union-attr]
    assert TABLE.rate(country="FR", region=None, tax_class=REDUCED).name == "TVA reduced"  # type: ignore[union-attr]


async def test_the_adapter_taxes_europe_from_the_package_and_us_states_from_the_merchants_table() -> None:
    regional = MemoryRegionalTaxRates()
    tax = RateTableTax(regional=regional)
    assert await tax.destination(country="PL", region="") == TaxDestination(country="PL", region=None,
                                                                            prices_include_tax=True)
    assert await tax.destination(country="US", region="CA") == TaxDestination(country="US", region="CA",
                                                                              prices_include_tax=False)
    with pytest.raises(UntaxedDestination, match=r"^no tax rate is known for US-OR"):
        await tax.destination(country="US", region="OR")
    items = [Taxable(applies_to="a", amount=10_800, tax_class="reduced-2"),
             Taxable(applies_to="b", amount=10_500, tax_class=REDUCED), Taxable(applies_to="c", amount=999)]
    lines = await tax.calculate(items, country="PL", region="", prices_include_tax=True)
    assert [(t.applies_to, t.basis_points, t.amount, t.name) for t in lines] == [
        ("a", 800, 800, "VAT reduced-2"), ("b", 500, 500, "VAT reduced"), ("c", 2300, 187, "VAT")]

    await regional.put(state_rate("OR", 0, "Oregon: no sales tax"))
    assert (await tax.destination(country="US", region="OR")).prices_include_tax is False
    [oregon] = await tax.calculate([Taxable(applies_to="a", amount=5000)], country="US", region="OR",
                                   prices_include_tax=False)
    assert (oregon.amount, oregon.name) == (0, "Oregon: no sales tax")
    await regional.remove("US", "CA")
    with pytest.raises(UntaxedDestination):
        await tax.calculate([Taxable(applies_to="a", amount=5000)], country="US", region="CA",
                            prices_include_tax=False)
    with pytest.raises(UntaxedDestination):
        await RateTableTax().destination(country="US", region="NY")  # no merchant's table: Europe only


async def test_every_country_a_european_zone_ships_to_is_taxed_and_us_states_as_the_merchant_keeps_them() -> None:
    tax = RateTableTax(regional=MemoryRegionalTaxRates())
    for zone in SEEDED_ZONES:
        for country in sorted(zone.countries - {"US"}):
            assert (await tax.destination(country=country, region="")).prices_include_tax is True
    assert set(EU_MEMBERS) == EU
    for state in ("CA", "NY", "TX", "WA"):
        assert (await tax.destination(country="US", region=state)).prices_include_tax is False
