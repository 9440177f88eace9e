"""Shipping zones and methods: flat, weight-banded and free-over-threshold rates per currency.

The merchant keeps them (``application/shipping``: stored, edited by staff); ``SEEDED_ZONES`` and
``SEEDED_METHODS`` are what a new shop starts with (migration 0030 wrote the same rows)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from domain.shared.errors import InvalidInput


class UnsupportedDestination(InvalidInput):
    """No shipping zone covers this country (or region)."""

    def __init__(self, country: str, region: str = "", *, message: str | None = None) -> None:
        super().__init__(message or f"we do not ship to {country}")
        self.country = country
        self.region = region or None


class NoShippingMethod(UnsupportedDestination):
    """A zone covers the destination, but no method ships there in the cart's currency."""

    def __init__(self, country: str, region: str, currency: str) -> None:
        place = f"{country}-{region}" if region else country
        super().__init__(country, region, message=f"we do not ship to {place} in {currency}: no shipping method "
                                                  f"there is priced in {currency}")
        self.currency = currency


class MethodNotOffered(InvalidInput):
    """The shipping method is not offered for this address, currency or parcel."""


class RateKind(Enum):
    FLAT = "flat"
    WEIGHT = "weight"


@dataclass(frozen=True, slots=True, kw_only=True)
class Zone:
    id: str
    name: str
    countries: frozenset[str]
    regions: frozenset[str] = frozenset()  # "US-CA": when set, only these regions of the countries

    def covers(self, country: str, region: str) -> bool:
        if country not in self.countries:
            return False
        return not self.regions or f"{country}-{region}" in self.regions


@dataclass(frozen=True, slots=True, kw_only=True)
class Method:
    id: str
    name: str
    zone_id: str
    currency: str
    kind: RateKind
    amount: int = 0  # FLAT: the price
    bands: tuple[tuple[int, int], ...] = ()  # WEIGHT: (up to grams, price), ascending
    free_over: int | None = None  # free when the goods (after discounts) reach this amount
    days: str = ""
    # Where in its zone the method is offered: empty, everywhere the zone covers; else only these
    # countries ("DE") and, when set, only these regions of them ("US-CA").
    countries: frozenset[str] = frozenset()
    regions: frozenset[str] = frozenset()

    def serves(self, country: str, region: str) -> bool:
        """Whether the method is offered at this address (its zone covering it is asked apart)."""
        if self.countries and country not in self.countries:
            return False
        return not self.regions or f"{country}-{region}" in self.regions

    def quote(self, *, goods: int, weight_grams: int) -> int | None:
        """The price for a parcel, or None when this method cannot carry it."""
        if self.free_over is not None and goods >= self.free_over:
            return 0
        if self.kind is RateKind.FLAT:
            return self.amount
        for up_to, price in self.bands:
            if weight_grams <= up_to:
                return price
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class Option:
    method: Method
    amount: int


# Every EU member state: the built-in tax adapter taxes each of them (a destination we ship to is taxable).
EU = frozenset({
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT", "LU",
    "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
})

SEEDED_ZONES: tuple[Zone, ...] = (
    Zone(id="eu", name="European Union", countries=EU),
    Zone(id="uk", name="United Kingdom", countries=frozenset({"GB"})),
    Zone(id="us", name="United States", countries=frozenset({"US"})),
)

SEEDED_METHODS: tuple[Method, ...] = (
    Method(id="eu-standard", name="Standard", zone_id="eu", currency="EUR", kind=RateKind.FLAT, amount=490,
           free_over=5000, days="2-4"),
    Method(id="eu-express", name="Express", zone_id="eu", currency="EUR", kind=RateKind.WEIGHT,
           bands=((1000, 990), (5000, 1490), (20000, 2490)), days="1-2"),
    Method(id="uk-standard", name="Standard", zone_id="uk", currency="GBP", kind=RateKind.FLAT, amount=450,
           free_over=5000, days="2-5"),
    Method(id="uk-eur-standard", name="Standard", zone_id="uk", currency="EUR", kind=RateKind.FLAT, amount=990,
           days="3-6"),
    Method(id="us-ground", name="Ground", zone_id="us", currency="USD", kind=RateKind.FLAT, amount=799,
           free_over=7500, days="3-7"),
    Method(id="us-air", name="2-Day Air", zone_id="us", currency="USD", kind=RateKind.WEIGHT,
           bands=((1000, 1599), (5000, 2499), (20000, 3999)), days="2"),
    Method(id="us-eur-international", name="International", zone_id="us", currency="EUR", kind=RateKind.FLAT,
           amount=1990, days="5-10"),
    # Every channel's currency (EUR, USD, GBP) ships to every zone: a USD or GBP cart to the EU was offered nothing.
    Method(id="eu-gbp-standard", name="Standard", zone_id="eu", currency="GBP", kind=RateKind.FLAT, amount=890,
           days="3-6"),
    Method(id="eu-usd-international", name="International", zone_id="eu", currency="USD", kind=RateKind.FLAT,
           amount=1990, days="5-10"),
    Method(id="uk-usd-international", name="International", zone_id="uk", currency="USD", kind=RateKind.FLAT,
           amount=1990, days="5-10"),
    Method(id="us-gbp-international", name="International", zone_id="us", currency="GBP", kind=RateKind.FLAT,
           amount=1790, days="5-10"),
)


class ShippingTable:
    def __init__(self, zones: tuple[Zone, ...] = SEEDED_ZONES, methods: tuple[Method, ...] = SEEDED_METHODS) -> None:
        self._zones = zones
        self._methods = methods

    def zones_for(self, country: str, region: str) -> list[Zone]:
        zones = [z for z in self._zones if z.covers(country, region)]
        if not zones:
            raise UnsupportedDestination(country, region)
        return zones

    def options(self, *, country: str, region: str, currency: str, goods: int, weight_grams: int) -> list[Option]:
        """Every method offered for the address and currency that can carry the parcel, cheapest first."""
        zone_ids = {z.id for z in self.zones_for(country, region)}
        found = []
        for method in self._methods:
            if method.zone_id in zone_ids and method.currency == currency and method.serves(country, region):
                amount = method.quote(goods=goods, weight_grams=weight_grams)
                if amount is not None:
                    found.append(Option(method=method, amount=amount))
        return sorted(found, key=lambda o: (o.amount, o.method.id))

    def choose(
        self, method_id: str, *, country: str, region: str, currency: str, goods: int, weight_grams: int,
    ) -> Option:
        options = self.options(country=country, region=region, currency=currency, goods=goods,
                               weight_grams=weight_grams)
        for option in options:
            if option.method.id == method_id:
                return option
        raise MethodNotOffered(f"shipping method {method_id!r} is not offered for this address and cart")
