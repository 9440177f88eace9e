"""Built-in tax rates: per country (and region), per tax class, as exact basis points.

A rate table answers "what rate applies to this tax class here"; ``tax_in`` / ``tax_on`` turn a
rate into an amount with the one rounding function. Prices are tax-inclusive (EU VAT: the tax
is part of the shelf price) or exclusive (US sales tax: added on top) per channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from domain.shared.money import round_minor

STANDARD = "standard"
REDUCED = "reduced"
ZERO = "zero"


@dataclass(frozen=True, slots=True, kw_only=True)
class TaxRate:
    country: str
    region: str | None
    tax_class: str
    basis_points: int  # 1900 = 19 %
    name: str

    @property
    def fraction(self) -> Fraction:
        return Fraction(self.basis_points, 10_000)


def tax_in(gross: int, rate: TaxRate) -> int:
    """The tax contained in a tax-inclusive amount: gross × r / (1 + r), rounded once."""
    return round_minor(Fraction(gross) * rate.fraction / (1 + rate.fraction))


def tax_on(net: int, rate: TaxRate) -> int:
    """The tax added on top of a tax-exclusive amount: net × r, rounded once."""
    return round_minor(Fraction(net) * rate.fraction)


def _eu(country: str, standard: int, reduced: int, name: str = "VAT") -> list[TaxRate]:
    return [
        TaxRate(country=country, region=None, tax_class=STANDARD, basis_points=standard, name=name),
        TaxRate(country=country, region=None, tax_class=REDUCED, basis_points=reduced, name=f"{name} reduced"),
    ]


SEEDED_RATES: tuple[TaxRate, ...] = (
    *_eu("DE", 1900, 700, "MwSt"),
    *_eu("FR", 2000, 550, "TVA"),
    *_eu("NL", 2100, 900, "BTW"),
    *_eu("IT", 2200, 1000, "IVA"),
    *_eu("ES", 2100, 1000, "IVA"),
    *_eu("AT", 2000, 1000, "USt"),
    *_eu("IE", 2300, 1350),
    *_eu("GB", 2000, 500),
    TaxRate(country="US", region="CA", tax_class=STANDARD, basis_points=725, name="CA sales tax"),
    TaxRate(country="US", region="NY", tax_class=STANDARD, basis_points=400, name="NY sales tax"),
    TaxRate(country="US", region="TX", tax_class=STANDARD, basis_points=625, name="TX sales tax"),
    TaxRate(country="US", region="WA", tax_class=STANDARD, basis_points=650, name="WA sales tax"),
)


class RateTable:
    """Look-up of the rate for a country, region and tax class; a region-specific rate wins."""

    def __init__(self, rates: tuple[TaxRate, ...] | list[TaxRate] = SEEDED_RATES) -> None:
        self._rates = {(r.country, r.region, r.tax_class): r for r in rates}

    def rate(self, *, country: str, region: str | None, tax_class: str) -> TaxRate | None:
        if tax_class == ZERO:
            return TaxRate(country=country, region=region, tax_class=ZERO, basis_points=0, name="zero-rated")
        for key in ((country, region, tax_class), (country, None, tax_class)):
            found = self._rates.get(key)
            if found is not None:
                return found
        if tax_class != STANDARD:
            return self.rate(country=country, region=region, tax_class=STANDARD)
        return None
