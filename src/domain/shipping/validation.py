"""What a zone or a method the merchant keeps must be, and the errors of keeping them."""

from __future__ import annotations

import re

from domain.shared.errors import Conflict, InvalidInput, NotFound
from domain.shared.money import is_currency
from domain.shipping.countries import is_country, is_region_code
from domain.shipping.rates import Method, RateKind, Zone
from domain.tax.rates import US_STATES

ID = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
MAX_NAME = 100
MAX_DAYS = 20
MAX_BANDS = 50


class InvalidShipping(InvalidInput):
    """A zone or a method the shipping table cannot hold; ``field`` names what is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class ShippingZoneNotFound(NotFound):
    """No shipping zone has this id."""


class ShippingMethodNotFound(NotFound):
    """No shipping method has this id."""


class ShippingZoneExists(Conflict):
    """A shipping zone with this id is kept already."""


class ShippingMethodExists(Conflict):
    """A shipping method with this id is kept already."""


class ShippingZoneInUse(Conflict):
    """The zone still has methods: they are removed (or moved) first."""

    def __init__(self, zone_id: str, method_ids: list[str]) -> None:
        super().__init__(f"shipping zone {zone_id!r} still has methods: {', '.join(method_ids)}")
        self.method_ids = method_ids


def check_zone(zone: Zone) -> None:
    """``InvalidShipping`` unless the zone has an id, a name, ISO 3166-1 countries and regions of them."""
    _check_id(zone.id)
    _check_name(zone.name)
    if not zone.countries:
        raise InvalidShipping("countries", "a zone covers at least one country")
    _check_places(zone.countries, zone.regions)


def check_method(method: Method, zone: Zone) -> None:
    """``InvalidShipping`` unless the method (of ``zone``) has a known currency, amounts of whole minor units
    that are not negative, ascending weight bands and places inside its zone."""
    _check_id(method.id)
    _check_name(method.name)
    if method.zone_id != zone.id:
        raise InvalidShipping("zone_id", f"the method belongs to {method.zone_id!r}, not {zone.id!r}")
    if not is_currency(method.currency):
        raise InvalidShipping("currency", f"{method.currency!r} is not an ISO 4217 currency we know")
    _check_amount("amount", method.amount)
    if method.free_over is not None:
        _check_amount("free_over", method.free_over)
    if method.kind is RateKind.FLAT and method.bands:
        raise InvalidShipping("bands", "a flat rate has no weight bands")
    if method.kind is RateKind.WEIGHT:
        _check_bands(method)
    if len(method.days) > MAX_DAYS:
        raise InvalidShipping("days", f"at most {MAX_DAYS} characters")
    _check_places(method.countries, method.regions)
    outside = sorted(method.countries - zone.countries)
    if outside:
        raise InvalidShipping("countries", f"{', '.join(outside)} outside zone {zone.id!r}")
    if method.regions and not method.countries:
        raise InvalidShipping("regions", "a method's regions need their countries listed too")


def _check_id(value: str) -> None:
    if not ID.fullmatch(value):
        raise InvalidShipping("id", "1 to 64 lower-case letters, digits and dashes, starting with a letter or digit")


def _check_name(value: str) -> None:
    if not value.strip() or len(value) > MAX_NAME:
        raise InvalidShipping("name", f"1 to {MAX_NAME} characters")


def _check_amount(field: str, value: int) -> None:
    if type(value) is not int or value < 0:
        raise InvalidShipping(field, "a whole number of minor units, not negative")


def _check_bands(method: Method) -> None:
    if method.amount:
        raise InvalidShipping("amount", "a weight-banded rate is priced by its bands")
    if not method.bands or len(method.bands) > MAX_BANDS:
        raise InvalidShipping("bands", f"a weight-banded rate has 1 to {MAX_BANDS} bands")
    previous = 0
    for up_to, amount in method.bands:
        if type(up_to) is not int or up_to <= previous:
            raise InvalidShipping("bands", "each band's up_to_grams is a whole number above the one before it "
                                           "(ascending, the first above 0)")
        _check_amount("bands", amount)
        previous = up_to


def _check_places(countries: frozenset[str], regions: frozenset[str]) -> None:
    unknown = sorted(c for c in countries if not is_country(c))
    if unknown:
        raise InvalidShipping("countries", f"not ISO 3166-1 alpha-2 country codes: {', '.join(unknown)}")
    for region in sorted(regions):
        country, _, subdivision = region.partition("-")
        if not is_region_code(region) or (country == "US" and subdivision not in US_STATES):
            raise InvalidShipping("regions", f"{region!r} is not a region code (country-subdivision, e.g. US-CA)")
        if country not in countries:
            raise InvalidShipping("regions", f"{region!r} is in a country not listed")
