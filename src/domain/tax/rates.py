"""Built-in tax rates: per country (and region), per tax class, as exact basis points.

A rate table answers "what rate applies to this tax class here"; ``tax_in`` / ``tax_on`` turn a
rate into an amount with the one rounding function. Prices are tax-inclusive (EU VAT: the tax
is part of the shelf price) or exclusive (US sales tax: added on top) per channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from domain.shared.money import round_ratio

BASIS = 10_000  # basis points in a whole
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
        return Fraction(self.basis_points, BASIS)


def tax_in(gross: int, rate: TaxRate) -> int:
    """The tax contained in a tax-inclusive amount: gross × r / (1 + r), rounded once (half to even).
    With r = bp / 10,000 that is gross × bp / (10,000 + bp), exact in integers."""
    return round_ratio(gross * rate.basis_points, BASIS + rate.basis_points)


def tax_on(net: int, rate: TaxRate) -> int:
    """The tax added on top of a tax-exclusive amount: net × r, rounded once (half to even)."""
    return round_ratio(net * rate.basis_points, BASIS)


SEEDED_RATES: tuple[TaxRate, ...] = (
    # European VAT: a standard and a reduced rate per country
    TaxRate(country="DE", region=None, tax_class=STANDARD, basis_points=1900, name="MwSt"),
    TaxRate(country="DE", region=None, tax_class=REDUCED, basis_points=700, name="MwSt reduced"),
    TaxRate(country="FR", region=None, tax_class=STANDARD, basis_points=2000, name="TVA"),
    TaxRate(country="FR", region=None, tax_class=REDUCED, basis_points=550, name="TVA reduced"),
    TaxRate(country="NL", region=None, tax_class=STANDARD, basis_points=2100, name="BTW"),
    TaxRate(country="NL", region=None, tax_class=REDUCED, basis_points=900, name="BTW reduced"),
    TaxRate(country="IT", region=None, tax_class=STANDARD, basis_points=2200, name="IVA"),
    TaxRate(country="IT", region=None, tax_class=REDUCED, basis_points=1000, name="IVA reduced"),
    TaxRate(country="ES", region=None, tax_class=STANDARD, basis_points=2100, name="IVA"),
    TaxRate(country="ES", region=None, tax_class=REDUCED, basis_points=1000, name="IVA reduced"),
    TaxRate(country="AT", region=None, tax_class=STANDARD, basis_points=2000, name="USt"),
    TaxRate(country="AT", region=None, tax_class=REDUCED, basis_points=1000, name="USt reduced"),
    TaxRate(country="IE", region=None, tax_class=STANDARD, basis_points=2300, name="VAT"),
    TaxRate(country="IE", region=None, tax_class=REDUCED, basis_points=1350, name="VAT reduced"),
    TaxRate(country="GB", region=None, tax_class=STANDARD, basis_points=2000, name="VAT"),
    TaxRate(country="GB", region=None, tax_class=REDUCED, basis_points=500, name="VAT reduced"),
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
