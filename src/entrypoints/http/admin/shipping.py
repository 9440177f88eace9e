"""The shipping table staff keep: zones (countries, regions) and the methods offered in each, one currency
a method, with a flat amount or weight bands and an optional free-over threshold. Amounts are integers of
minor units of the method's currency."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from litestar import Controller, delete, get, post, put
from litestar.params import JSONBody, PathParameter, QueryParameter
from msgspec import Meta

from application.shipping import commands as c
from domain.shipping.rates import Method, RateKind, Zone
from domain.shipping.validation import (
    InvalidShipping,
    ShippingMethodExists,
    ShippingMethodNotFound,
    ShippingZoneExists,
    ShippingZoneInUse,
    ShippingZoneNotFound,
)
from domain.staff.roles import Role
from entrypoints.http.admin.products import Strict
from entrypoints.http.auth import roles, staff_guard
from entrypoints.http.dependencies import Bus
from entrypoints.http.problems import register_error

READERS = roles(Role.MERCHANDISER, Role.FULFILMENT)
EDITORS = roles(Role.MERCHANDISER)
PathId = Annotated[str, PathParameter(max_length=64)]
Id = Annotated[str, Meta(min_length=1, max_length=64)]
Name = Annotated[str, Meta(min_length=1, max_length=100)]
Code = Annotated[str, Meta(max_length=8)]  # checked by the domain: ISO 3166 countries, "US-CA" regions
Places = Annotated[list[Code], Meta(max_length=300)]

for _error, _status, _slug, _title in (
    (InvalidShipping, 422, "invalid-shipping", "Invalid shipping zone or method"),
    (ShippingZoneNotFound, 404, "shipping-zone-not-found", "No such shipping zone"),
    (ShippingMethodNotFound, 404, "shipping-method-not-found", "No such shipping method"),
    (ShippingZoneExists, 409, "shipping-zone-exists", "A shipping zone with this id exists"),
    (ShippingMethodExists, 409, "shipping-method-exists", "A shipping method with this id exists"),
    (ShippingZoneInUse, 409, "shipping-zone-in-use", "The shipping zone still has methods"),
):
    register_error(_error, _status, _slug, _title)


class ZoneChange(Strict):
    name: Name
    countries: Places
    regions: Places = []


class ZoneIn(ZoneChange, kw_only=True):
    id: Id


class Band(msgspec.Struct, kw_only=True):
    up_to_grams: int
    amount: int


class MethodChange(Strict):
    name: Name
    zone_id: Id
    currency: Annotated[str, Meta(min_length=3, max_length=3)]
    kind: Literal["flat", "weight"]
    amount: int = 0  # flat
    bands: Annotated[list[Band], Meta(max_length=50)] = []  # weight: ascending by up_to_grams
    free_over: int | None = None
    days: Annotated[str, Meta(max_length=20)] = ""
    countries: Places = []  # offered only there in its zone (empty: all of it)
    regions: Places = []


class MethodIn(MethodChange, kw_only=True):
    id: Id


class ZoneView(msgspec.Struct, kw_only=True):
    id: str
    name: str
    countries: list[str]
    regions: list[str]


class MethodView(msgspec.Struct, kw_only=True):
    id: str
    name: str
    zone_id: str
    currency: str
    kind: str
    amount: int
    bands: list[Band]
    free_over: int | None
    days: str
    countries: list[str]
    regions: list[str]


def _zone(zone_id: str, data: ZoneChange) -> Zone:
    return Zone(id=zone_id, name=data.name, countries=frozenset(data.countries), regions=frozenset(data.regions))


def _method(method_id: str, data: MethodChange) -> Method:
    return Method(
        id=method_id, name=data.name, zone_id=data.zone_id, currency=data.currency, kind=RateKind(data.kind),
        amount=data.amount, bands=tuple((b.up_to_grams, b.amount) for b in data.bands), free_over=data.free_over,
        days=data.days, countries=frozenset(data.countries), regions=frozenset(data.regions),
    )


def _zone_view(zone: Zone) -> ZoneView:
    return ZoneView(id=zone.id, name=zone.name, countries=sorted(zone.countries), regions=sorted(zone.regions))


def _method_view(method: Method) -> MethodView:
    return MethodView(
        id=method.id, name=method.name, zone_id=method.zone_id, currency=method.currency, kind=method.kind.value,
        amount=method.amount, bands=[Band(up_to_grams=up_to, amount=amount) for up_to, amount in method.bands],
        free_over=method.free_over, days=method.days, countries=sorted(method.countries),
        regions=sorted(method.regions),
    )


class AdminShippingController(Controller):
    path = "/admin/shipping"
    tags = ["admin: shipping"]
    guards = [staff_guard]

    @get("/zones", operation_id="admin_list_shipping_zones", opt=READERS)
    async def list_zones(self, bus: Bus) -> list[ZoneView]:
        return [_zone_view(z) for z in await bus.handle(c.ListShippingZones())]

    @post("/zones", operation_id="admin_create_shipping_zone", opt=EDITORS)
    async def create_zone(self, bus: Bus, data: JSONBody[ZoneIn]) -> ZoneView:
        return _zone_view(await bus.handle(c.CreateShippingZone(zone=_zone(data.id, data))))

    @put("/zones/{zone_id:str}", operation_id="admin_update_shipping_zone", opt=EDITORS)
    async def update_zone(self, bus: Bus, zone_id: PathId, data: JSONBody[ZoneChange]) -> ZoneView:
        return _zone_view(await bus.handle(c.UpdateShippingZone(zone=_zone(zone_id, data))))

    @delete("/zones/{zone_id:str}", operation_id="admin_delete_shipping_zone", opt=EDITORS, status_code=204)
    async def delete_zone(self, bus: Bus, zone_id: PathId) -> None:
        await bus.handle(c.DeleteShippingZone(zone_id=zone_id))

    @get("/methods", operation_id="admin_list_shipping_methods", opt=READERS)
    async def list_methods(
        self, bus: Bus, zone_id: Annotated[str | None, QueryParameter(max_length=64)] = None,
        currency: Annotated[str | None, QueryParameter(max_length=3)] = None,
    ) -> list[MethodView]:
        return [_method_view(m) for m in await bus.handle(c.ListShippingMethods(zone_id=zone_id, currency=currency))]

    @post("/methods", operation_id="admin_create_shipping_method", opt=EDITORS)
    async def create_method(self, bus: Bus, data: JSONBody[MethodIn]) -> MethodView:
        return _method_view(await bus.handle(c.CreateShippingMethod(method=_method(data.id, data))))

    @put("/methods/{method_id:str}", operation_id="admin_update_shipping_method", opt=EDITORS)
    async def update_method(self, bus: Bus, method_id: PathId, data: JSONBody[MethodChange]) -> MethodView:
        return _method_view(await bus.handle(c.UpdateShippingMethod(method=_method(method_id, data))))

    @delete("/methods/{method_id:str}", operation_id="admin_delete_shipping_method", opt=EDITORS,
            status_code=204)
    async def delete_method(self, bus: Bus, method_id: PathId) -> None:
        await bus.handle(c.DeleteShippingMethod(method_id=method_id))
