"""Tax rates: per country (and region), per tax class, as exact basis points.

A rate table answers "what rate applies to this tax class here" and "how does this destination tax a
consumer sale"; ``tax_in`` / ``tax_on`` turn a rate into an amount with the one rounding function.
European VAT is part of a consumer's shelf price (inclusive); US sales tax is added at the till
(exclusive). The built-in European rates come from a pinned data package (``adapters/system/vat_rates.py``),
the US states' from a table the merchant edits; the domain only holds what they have in common.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from domain.shared.errors import InvalidInput, NotFound
from domain.shared.money import round_ratio

BASIS = 10_000  # basis points in a whole

# Tax classes a product carries. Where a country has several reduced rates, ``reduced`` is its lowest
# (the books-and-food rate in most of Europe), ``reduced-2`` the next one up, and ``super-reduced`` a rate
# below every reduced one; a class a country does not define is taxed at its standard rate (never less
# than is due). ``zero`` is zero-rated (a 0 % line), ``exempt`` outside the scope of the tax (a 0 % line
# named so): both only where the destination is taxed at all.
STANDARD = "standard"
REDUCED = "reduced"
REDUCED_2 = "reduced-2"
SUPER_REDUCED = "super-reduced"
ZERO = "zero"
EXEMPT = "exempt"
TAX_CLASSES = (STANDARD, REDUCED, REDUCED_2, SUPER_REDUCED, ZERO, EXEMPT)
REDUCED_CLASSES = (REDUCED, REDUCED_2, SUPER_REDUCED)

# The states of the United States (and DC and Puerto Rico) whose sales tax the merchant's table may hold.
US_STATES = frozenset({
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS", "KY",
    "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC", "ND", "OH",
    "OK", "OR", "PA", "PR", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY",
})


class UnknownTaxClass(InvalidInput):
    """A tax class that is not one of ``TAX_CLASSES``."""


class UntaxedDestination(InvalidInput):
    """No tax rate is known for the destination: we cannot sell there (it is refused at the address)."""

    def __init__(self, country: str, region: str | None) -> None:
        place = f"{country}-{region}" if region else country
        super().__init__(f"no tax rate is known for {place}: we cannot sell to it")
        self.country = country
        self.region = region or None


class InvalidTaxRate(InvalidInput):
    """A rate the merchant's table cannot hold (an unknown state, a rate out of range)."""


class TaxRateNotFound(NotFound):
    """The merchant's table keeps no rate there."""


def check_tax_class(tax_class: str) -> str:
    if tax_class not in TAX_CLASSES:
        raise UnknownTaxClass(f"unknown tax class {tax_class!r} (one of {', '.join(TAX_CLASSES)})")
    return tax_class


@dataclass(frozen=True, slots=True, kw_only=True)
class TaxRate:
    country: str
    region: str | None
    tax_class: str
    basis_points: int  # 1900 = 19 %
    name: str
    included_in_prices: bool = True  # consumer prices include it (VAT), or it is added on top (US sales tax)

    @property
    def fraction(self) -> Fraction:
        return Fraction(self.basis_points, BASIS)


@dataclass(frozen=True, slots=True, kw_only=True)
class TaxDestination:
    """How a destination taxes a consumer sale: the prices a shopper there sees include the tax or not."""

    country: str
    region: str | None
    prices_include_tax: bool


def tax_in(gross: int, rate: TaxRate) -> int:
    """The tax contained in a tax-inclusive amount: gross × r / (1 + r), rounded once (half to even).
    With r = bp / 10,000 that is gross × bp / (10,000 + bp), exact in integers."""
    return round_ratio(gross * rate.basis_points, BASIS + rate.basis_points)


def tax_on(net: int, rate: TaxRate) -> int:
    """The tax added on top of a tax-exclusive amount: net × r, rounded once (half to even)."""
    return round_ratio(net * rate.basis_points, BASIS)


# The US states' sales tax the shop started with: the seed of the merchant's table (migration 0029 writes
# the same rows), and the cart page's estimate for a US channel.
SEEDED_US_STATES: tuple[TaxRate, ...] = (
    TaxRate(country="US", region="CA", tax_class=STANDARD, basis_points=725, name="CA sales tax",
            included_in_prices=False),
    TaxRate(country="US", region="NY", tax_class=STANDARD, basis_points=400, name="NY sales tax",
            included_in_prices=False),
    TaxRate(country="US", region="TX", tax_class=STANDARD, basis_points=625, name="TX sales tax",
            included_in_prices=False),
    TaxRate(country="US", region="WA", tax_class=STANDARD, basis_points=650, name="WA sales tax",
            included_in_prices=False),
)


def state_rate(state: str, basis_points: int, name: str | None = None) -> TaxRate:
    """A US state's sales tax as the merchant's table keeps it: a known state, 0 to 25 %."""
    if state not in US_STATES:
        raise InvalidTaxRate(f"{state!r} is not a US state (two capital letters, e.g. CA)")
    if not 0 <= basis_points <= 2500:
        raise InvalidTaxRate("a state's sales tax is between 0 and 2500 basis points (25 %)")
    name = (name or "").strip() or f"{state} sales tax"
    if len(name) > 100:
        raise InvalidTaxRate("a rate's name is at most 100 characters")
    return TaxRate(country="US", region=state, tax_class=STANDARD, basis_points=basis_points, name=name,
                   included_in_prices=False)


class RateTable:
    """Look-up of the rate for a country, region and tax class; a region-specific rate wins."""

    def __init__(self, rates: tuple[TaxRate, ...] | list[TaxRate] = ()) -> None:
        self._rates = {(r.country, r.region, r.tax_class): r for r in rates}

    def destination(self, *, country: str, region: str | None) -> TaxDestination | None:
        """How ``country`` (``region``) taxes a consumer sale, or None when this table cannot tax it."""
        standard = self._find(country, region, STANDARD)
        if standard is None:
            return None
        return TaxDestination(country=country, region=region, prices_include_tax=standard.included_in_prices)

    def rate(self, *, country: str, region: str | None, tax_class: str) -> TaxRate | None:
        """The rate of ``tax_class`` there; a class the destination does not define is taxed at its
        standard rate; None where the destination has no standard rate (it cannot be taxed)."""
        standard = self._find(country, region, STANDARD)
        if standard is None:
            return None
        if tax_class in (ZERO, EXEMPT):
            return TaxRate(country=country, region=region, tax_class=tax_class, basis_points=0,
                           name="zero-rated" if tax_class == ZERO else "exempt",
                           included_in_prices=standard.included_in_prices)
        return self._find(country, region, tax_class) or standard

    def _find(self, country: str, region: str | None, tax_class: str) -> TaxRate | None:
        return self._rates.get((country, region, tax_class)) or self._rates.get((country, None, tax_class))

    def classes(self, *, country: str, region: str | None = None) -> dict[str, TaxRate]:
        """The rates the destination defines itself, by class (a reduced class it lacks is left out)."""
        return {
            tax_class: rate for tax_class in (STANDARD, *REDUCED_CLASSES)
            if (rate := self._find(country, region, tax_class)) is not None
        }
