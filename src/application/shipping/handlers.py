"""Staff keep the shipping table: zones, and per currency the methods (flat, weight-banded, free over an
amount) offered in each. Every change is checked whole before anything is written, and bumps the catalog
version so that checkout's kept table (``KeptShippingRates``) is read again."""

from __future__ import annotations

from application.catalog.snapshot import CatalogVersion
from application.messaging.registry import handler
from application.shipping.commands import (
    CreateShippingMethod,
    CreateShippingZone,
    DeleteShippingMethod,
    DeleteShippingZone,
    ListShippingMethods,
    ListShippingZones,
    UpdateShippingMethod,
    UpdateShippingZone,
)
from application.shipping.ports import ShippingStore
from domain.shipping.rates import Method, Zone
from domain.shipping.validation import InvalidShipping, ShippingZoneNotFound, check_method, check_zone


@handler
async def list_shipping_zones(query: ListShippingZones, *, shipping_store: ShippingStore) -> list[Zone]:
    return await shipping_store.zones()


@handler
async def list_shipping_methods(query: ListShippingMethods, *, shipping_store: ShippingStore) -> list[Method]:
    return [m for m in await shipping_store.methods()
            if query.zone_id in (None, m.zone_id) and query.currency in (None, m.currency)]


@handler
async def create_shipping_zone(
    command: CreateShippingZone, *, shipping_store: ShippingStore, catalog_version: CatalogVersion | None,
) -> Zone:
    check_zone(command.zone)
    await shipping_store.add_zone(command.zone)
    await _changed(catalog_version)
    return command.zone


@handler
async def update_shipping_zone(
    command: UpdateShippingZone, *, shipping_store: ShippingStore, catalog_version: CatalogVersion | None,
) -> Zone:
    zone = command.zone
    check_zone(zone)
    if zone.id not in {z.id for z in await shipping_store.zones()}:
        raise ShippingZoneNotFound(f"no shipping zone {zone.id!r}")
    for method in await shipping_store.methods():
        if method.zone_id == zone.id:
            try:
                check_method(method, zone)
            except InvalidShipping as error:
                raise InvalidShipping(error.field, f"method {method.id!r} would not fit the zone ({error})") from None
    await shipping_store.replace_zone(zone)
    await _changed(catalog_version)
    return zone


@handler
async def delete_shipping_zone(
    command: DeleteShippingZone, *, shipping_store: ShippingStore, catalog_version: CatalogVersion | None,
) -> None:
    await shipping_store.remove_zone(command.zone_id)
    await _changed(catalog_version)


@handler
async def create_shipping_method(
    command: CreateShippingMethod, *, shipping_store: ShippingStore, catalog_version: CatalogVersion | None,
) -> Method:
    check_method(command.method, await _zone_of(command.method, shipping_store))
    await shipping_store.add_method(command.method)
    await _changed(catalog_version)
    return command.method


@handler
async def update_shipping_method(
    command: UpdateShippingMethod, *, shipping_store: ShippingStore, catalog_version: CatalogVersion | None,
) -> Method:
    check_method(command.method, await _zone_of(command.method, shipping_store))
    await shipping_store.replace_method(command.method)
    await _changed(catalog_version)
    return command.method


@handler
async def delete_shipping_method(
    command: DeleteShippingMethod, *, shipping_store: ShippingStore, catalog_version: CatalogVersion | None,
) -> None:
    await shipping_store.remove_method(command.method_id)
    await _changed(catalog_version)


async def _zone_of(method: Method, store: ShippingStore) -> Zone:
    for zone in await store.zones():
        if zone.id == method.zone_id:
            return zone
    raise InvalidShipping("zone_id", f"no shipping zone {method.zone_id!r}")


async def _changed(version: CatalogVersion | None) -> None:
    """Checkout reads the table again: at once here, within the version's TTL in every other process."""
    if version is not None:
        await version.bump()
