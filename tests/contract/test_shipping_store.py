"""The ShippingStore contract (``ShippingStoreContract``) on the in-memory fake and PostgreSQL: the seeded
table, zones and methods kept, replaced and removed as they were given, and the refusals (a taken id, an
unknown one, a method of no zone, a zone still holding methods) that change nothing. Each test takes ids no
other test uses."""

from __future__ import annotations

import pytest

from adapters.memory.shipping import MemoryShippingStore
from adapters.postgres.shipping import PostgresShippingStore
from domain.shipping.rates import SEEDED_METHODS, SEEDED_ZONES, Method, RateKind, Zone
from domain.shipping.validation import (
    ShippingMethodExists,
    ShippingMethodNotFound,
    ShippingZoneExists,
    ShippingZoneInUse,
    ShippingZoneNotFound,
)


def _zone(zone_id: str, **changes) -> Zone:
    return Zone(**{"id": zone_id, "name": "West coast", "countries": frozenset({"US", "CA"}),
                   "regions": frozenset({"US-CA", "US-OR"}), **changes})


def _method(method_id: str, zone_id: str, **changes) -> Method:
    return Method(**{"id": method_id, "name": "Freight", "zone_id": zone_id, "currency": "USD",
                     "kind": RateKind.WEIGHT, "bands": ((1000, 1500), (30000, 4500)), "free_over": 20000,
                     "days": "4-6", "countries": frozenset({"US"}), "regions": frozenset({"US-CA"}), **changes})


class ShippingStoreContract:
    """What every ShippingStore does alike. A subclass provides ``store``: a store of its kind."""

    @pytest.fixture
    def store(self):
        raise NotImplementedError("a subclass provides the adapter under test")

    async def test_it_starts_with_the_seeded_zones_and_methods(self, store) -> None:
        zones = {z.id: z for z in await store.zones()}
        methods = {m.id: m for m in await store.methods()}
        assert [zones.get(z.id) for z in SEEDED_ZONES] == list(SEEDED_ZONES)
        assert [methods.get(m.id) for m in SEEDED_METHODS] == list(SEEDED_METHODS)

    async def test_zones_and_methods_come_back_as_they_were_kept_and_in_id_order(self, store, unique) -> None:
        zone, other = _zone(f"west-{unique}"), _zone(f"east-{unique}", regions=frozenset(), name="East")
        await store.add_zone(zone)
        await store.add_zone(other)
        freight = _method(f"west-{unique}-freight", zone.id)
        flat = _method(f"west-{unique}-flat", zone.id, kind=RateKind.FLAT, amount=0, bands=(), free_over=None,
                       days="", countries=frozenset(), regions=frozenset(), currency="JPY")
        await store.add_method(freight)
        await store.add_method(flat)
        zones = await store.zones()
        assert [z for z in zones if unique in z.id] == [other, zone]
        assert [z.id for z in zones] == sorted(z.id for z in zones)
        methods = await store.methods()
        assert [m for m in methods if unique in m.id] == [flat, freight]
        assert [m.id for m in methods] == sorted(m.id for m in methods)

        narrower = _zone(zone.id, name="California", countries=frozenset({"US"}), regions=frozenset({"US-CA"}))
        await store.replace_zone(narrower)
        cheaper = _method(freight.id, other.id, bands=((500, 900),), free_over=None, days="1")
        await store.replace_method(cheaper)
        assert [z for z in await store.zones() if z.id == zone.id] == [narrower]
        assert [m for m in await store.methods() if m.id == freight.id] == [cheaper]

        await store.remove_method(flat.id)
        await store.remove_method(cheaper.id)
        await store.remove_zone(zone.id)
        await store.remove_zone(other.id)
        assert not [z for z in await store.zones() if unique in z.id]
        assert not [m for m in await store.methods() if unique in m.id]

    async def test_taken_and_unknown_ids_are_refused_and_change_nothing(self, store, unique) -> None:
        zone = _zone(f"z-{unique}")
        method = _method(f"m-{unique}", zone.id)
        await store.add_zone(zone)
        await store.add_method(method)
        before = (await store.zones(), await store.methods())

        with pytest.raises(ShippingZoneExists):
            await store.add_zone(_zone(zone.id, name="Again"))
        with pytest.raises(ShippingMethodExists):
            await store.add_method(_method(method.id, zone.id, name="Again"))
        with pytest.raises(ShippingZoneNotFound):
            await store.replace_zone(_zone(f"none-{unique}"))
        with pytest.raises(ShippingZoneNotFound):
            await store.remove_zone(f"none-{unique}")
        with pytest.raises(ShippingZoneNotFound):
            await store.add_method(_method(f"m2-{unique}", f"none-{unique}"))
        with pytest.raises(ShippingZoneNotFound):
            await store.replace_method(_method(method.id, f"none-{unique}"))
        with pytest.raises(ShippingMethodNotFound):
            await store.replace_method(_method(f"none-{unique}", zone.id))
        with pytest.raises(ShippingMethodNotFound):
            await store.remove_method(f"none-{unique}")
        with pytest.raises(ShippingZoneInUse) as in_use:
            await store.remove_zone(zone.id)
        assert in_use.value.method_ids == [method.id]
        assert (await store.zones(), await store.methods()) == before

        await store.remove_method(method.id)
        await store.remove_zone(zone.id)


class TestMemoryShippingStore(ShippingStoreContract):
    @pytest.fixture
    def store(self):
        return MemoryShippingStore()


class TestPostgresShippingStore(ShippingStoreContract):
    @pytest.fixture
    def store(self, engine):
        return PostgresShippingStore(engine)
