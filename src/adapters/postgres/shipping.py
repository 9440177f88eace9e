"""The merchant's shipping table in ``shipping_zones`` and ``shipping_methods`` (short transactions of their own)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.postgres import tables as t
from domain.shipping.rates import Method, RateKind, Zone
from domain.shipping.validation import (
    ShippingMethodExists,
    ShippingMethodNotFound,
    ShippingZoneExists,
    ShippingZoneInUse,
    ShippingZoneNotFound,
)

_z = t.shipping_zones
_m = t.shipping_methods
UNIQUE, FOREIGN_KEY = "23505", "23503"


def _sqlstate(error: IntegrityError) -> str | None:
    return getattr(error.orig, "sqlstate", None)


def _zone_row(zone: Zone) -> dict[str, Any]:
    return {"name": zone.name, "countries": sorted(zone.countries), "regions": sorted(zone.regions),
            "updated_at": func.now()}


def _method_row(method: Method) -> dict[str, Any]:
    return {"zone_id": method.zone_id, "name": method.name, "currency": method.currency, "kind": method.kind.value,
            "amount": method.amount, "bands": [list(band) for band in method.bands], "free_over": method.free_over,
            "days": method.days, "countries": sorted(method.countries), "regions": sorted(method.regions),
            "updated_at": func.now()}


class PostgresShippingStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def zones(self) -> list[Zone]:
        async with self._engine.connect() as conn:
            rows = (await conn.execute(select(_z).order_by(_z.c.id))).all()
        return [Zone(id=r.id, name=r.name, countries=frozenset(r.countries), regions=frozenset(r.regions))
                for r in rows]

    async def methods(self) -> list[Method]:
        async with self._engine.connect() as conn:
            rows = (await conn.execute(select(_m).order_by(_m.c.id))).all()
        return [
            Method(id=r.id, name=r.name, zone_id=r.zone_id, currency=r.currency, kind=RateKind(r.kind),
                   amount=r.amount, bands=tuple((up_to, amount) for up_to, amount in r.bands),
                   free_over=r.free_over, days=r.days, countries=frozenset(r.countries),
                   regions=frozenset(r.regions))
            for r in rows
        ]

    async def add_zone(self, zone: Zone) -> None:
        try:
            async with self._engine.begin() as conn:
                await conn.execute(insert(_z).values(id=zone.id, **_zone_row(zone)))
        except IntegrityError as error:
            if _sqlstate(error) == UNIQUE:
                raise ShippingZoneExists(f"a shipping zone {zone.id!r} is kept already") from None
            raise

    async def replace_zone(self, zone: Zone) -> None:
        async with self._engine.begin() as conn:
            changed = await conn.execute(update(_z).where(_z.c.id == zone.id).values(**_zone_row(zone))
                                         .returning(_z.c.id))
            if changed.first() is None:
                raise ShippingZoneNotFound(f"no shipping zone {zone.id!r}")

    async def remove_zone(self, zone_id: str) -> None:
        async with self._engine.begin() as conn:
            # The row lock keeps a method from being added to the zone meanwhile (its key check waits for it).
            if (await conn.execute(select(_z.c.id).where(_z.c.id == zone_id).with_for_update())).first() is None:
                raise ShippingZoneNotFound(f"no shipping zone {zone_id!r}")
            used = (await conn.scalars(select(_m.c.id).where(_m.c.zone_id == zone_id).order_by(_m.c.id))).all()
            if used:
                raise ShippingZoneInUse(zone_id, list(used))
            await conn.execute(delete(_z).where(_z.c.id == zone_id))

    async def add_method(self, method: Method) -> None:
        try:
            async with self._engine.begin() as conn:
                await conn.execute(insert(_m).values(id=method.id, **_method_row(method)))
        except IntegrityError as error:
            if _sqlstate(error) == UNIQUE:
                raise ShippingMethodExists(f"a shipping method {method.id!r} is kept already") from None
            if _sqlstate(error) == FOREIGN_KEY:
                raise ShippingZoneNotFound(f"no shipping zone {method.zone_id!r}") from None
            raise

    async def replace_method(self, method: Method) -> None:
        try:
            async with self._engine.begin() as conn:
                changed = await conn.execute(update(_m).where(_m.c.id == method.id).values(**_method_row(method))
                                             .returning(_m.c.id))
                if changed.first() is None:
                    raise ShippingMethodNotFound(f"no shipping method {method.id!r}")
        except IntegrityError as error:
            if _sqlstate(error) == FOREIGN_KEY:
                raise ShippingZoneNotFound(f"no shipping zone {method.zone_id!r}") from None
            raise

    async def remove_method(self, method_id: str) -> None:
        async with self._engine.begin() as conn:
            removed = await conn.execute(delete(_m).where(_m.c.id == method_id).returning(_m.c.id))
            if removed.first() is None:
                raise ShippingMethodNotFound(f"no shipping method {method_id!r}")
