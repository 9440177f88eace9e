"""European VAT rates from the pinned ``eu-vat-rates-data`` package (the European Commission's TEDB for
the EU-27, kept by hand there for the UK, Norway and Switzerland), mapped to our tax classes.

The package lists a country's reduced rates as one flat list, regional ones included (Corsica and the
French overseas departments, Austria's Jungholz and Mittelberg, the Azores and Madeira, the Greek
islands). We tax by country, so those are left out (``REGIONAL``); what remains is mapped in ascending
order: ``reduced`` is the lowest reduced rate, ``reduced-2`` the next, and the package's super-reduced
rate is ``super-reduced`` when it lies below them (Poland's and Portugal's repeat a reduced rate and add
nothing). Parking rates repeat a reduced rate in every covered country and are not used. A release
whose shape this mapping cannot place fails loudly at start-up rather than taxing at a guessed rate.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache

import eu_vat_rates_data

from domain.tax.rates import REDUCED, REDUCED_2, STANDARD, SUPER_REDUCED, TaxRate

EU_MEMBERS = frozenset({
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT", "LU",
    "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
})
COVERED = EU_MEMBERS | {"GB", "NO", "CH"}

# Rates of a region only, listed by the package among the country's (percent, as the package writes them).
REGIONAL: dict[str, frozenset[Decimal]] = {
    "FR": frozenset({Decimal("0.9"), Decimal("1.05"), Decimal("8.5"), Decimal("13.0")}),  # Corsica, overseas
    "AT": frozenset({Decimal("19.0")}),  # Jungholz and Mittelberg
    "PT": frozenset({Decimal("16.0"), Decimal("22.0")}),  # the Azores and Madeira
    "GR": frozenset({Decimal("17.0"), Decimal("4.0")}),  # the islands of the eastern Aegean
}

DATA_VERSION: str = eu_vat_rates_data.data_version  # when the package last read the Commission's data


def basis_points(percent: float) -> int:
    """``5.5`` → 550, exactly: the package writes percentages with at most two decimals."""
    exact = Decimal(str(percent)) * 100
    if exact != exact.to_integral_value():
        raise ValueError(f"a VAT rate of {percent} % is not a whole number of basis points")
    return int(exact)


def _rates_of(country: str, entry: dict[str, object]) -> list[TaxRate]:
    regional = REGIONAL.get(country, frozenset())
    name = str(entry["vat_abbr"])
    standard = float(entry["standard"])  # type: ignore[arg-type]
    listed: list[float] = list(entry["reduced"])  # type: ignore[call-overload]
    super_reduced = entry["super_reduced"]
    reduced = sorted({Decimal(str(r)) for r in listed} - regional)
    if len(reduced) > 2:
        raise ValueError(f"{country} has {len(reduced)} national reduced rates; the tax classes name two")
    rates = [TaxRate(country=country, region=None, tax_class=STANDARD, basis_points=basis_points(standard),
                     name=name)]
    for tax_class, percent in zip((REDUCED, REDUCED_2), reduced, strict=False):
        rates.append(TaxRate(country=country, region=None, tax_class=tax_class,
                             basis_points=basis_points(float(percent)), name=f"{name} {tax_class}"))
    if isinstance(super_reduced, float | int) and Decimal(str(super_reduced)) not in regional:
        lowest = Decimal(str(super_reduced))
        if not reduced or lowest < reduced[0]:
            rates.append(TaxRate(country=country, region=None, tax_class=SUPER_REDUCED,
                                 basis_points=basis_points(float(lowest)), name=f"{name} {SUPER_REDUCED}"))
        elif lowest not in reduced:
            raise ValueError(f"{country}'s super-reduced rate {lowest} % is above its lowest reduced rate")
    return rates


@cache
def european_vat_rates() -> tuple[TaxRate, ...]:
    """Every EU member state's, the UK's, Norway's and Switzerland's VAT rates, by tax class."""
    every = eu_vat_rates_data.get_all_rates()
    missing = sorted(COVERED - set(every))
    if missing:
        raise ValueError(f"the VAT data package lacks {', '.join(missing)}")
    return tuple(rate for country in sorted(COVERED) for rate in _rates_of(country, dict(every[country])))
