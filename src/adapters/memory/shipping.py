"""The merchant's shipping table in memory (seeded, as the migration seeds PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterable

from domain.shipping.rates import SEEDED_METHODS, SEEDED_ZONES, Method, Zone
from domain.shipping.validation import (
    ShippingMethodExists,
    ShippingMethodNotFound,
    ShippingZoneExists,
    ShippingZoneInUse,
    ShippingZoneNotFound,
)


class MemoryShippingStore:
    def __init__(self, zones: Iterable[Zone] = SEEDED_ZONES, methods: Iterable[Method] = SEEDED_METHODS) -> None:
        self._zones = {z.id: z for z in zones}
        self._methods = {m.id: m for m in methods}

    async def zones(self) -> list[Zone]:
        return [self._zones[key] for key in sorted(self._zones)]

    async def methods(self) -> list[Method]:
        return [self._methods[key] for key in sorted(self._methods)]

    async def add_zone(self, zone: Zone) -> None:
        if zone.id in self._zones:
            raise ShippingZoneExists(f"a shipping zone {zone.id!r} is kept already")
        self._zones[zone.id] = zone

    async def replace_zone(self, zone: Zone) -> None:
        self._zone(zone.id)
        self._zones[zone.id] = zone

    async def remove_zone(self, zone_id: str) -> None:
        self._zone(zone_id)
        used = sorted(m.id for m in self._methods.values() if m.zone_id == zone_id)
        if used:
            raise ShippingZoneInUse(zone_id, used)
        del self._zones[zone_id]

    async def add_method(self, method: Method) -> None:
        if method.id in self._methods:
            raise ShippingMethodExists(f"a shipping method {method.id!r} is kept already")
        self._zone(method.zone_id)
        self._methods[method.id] = method

    async def replace_method(self, method: Method) -> None:
        if method.id not in self._methods:
            raise ShippingMethodNotFound(f"no shipping method {method.id!r}")
        self._zone(method.zone_id)
        self._methods[method.id] = method

    async def remove_method(self, method_id: str) -> None:
        if self._methods.pop(method_id, None) is None:
            raise ShippingMethodNotFound(f"no shipping method {method_id!r}")

    def _zone(self, zone_id: str) -> Zone:
        try:
            return self._zones[zone_id]
        except KeyError:
            raise ShippingZoneNotFound(f"no shipping zone {zone_id!r}") from None
