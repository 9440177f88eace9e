"""Product types mapped by hand (their definitions as JSONB, in order); what the products of a type hold,
read from ``products``. A type being changed is locked (FOR UPDATE); a product checked against it holds it
shared until it commits, so no product is ever saved against a type that changed meanwhile."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, any_, bindparam, delete, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.postgres import tables as t
from adapters.postgres.repositories import constraint_name
from adapters.postgres.versions import LoadedVersions
from domain.catalog.attributes import AttributeDefinition, AttributeKind
from domain.catalog.errors import ProductTypeCodeTaken, ProductTypeInUse, ProductTypeNotFound
from domain.catalog.types import ProductType, TypeUsage
from domain.shared.errors import ConcurrencyConflict, Conflict
from domain.shared.events import Aggregate

_t, _p = t.product_types, t.products

# How many products hold each attribute, and the text of each value of the enum attributes (a list's items
# one by one: multi-values are stored as {"many": [...]}).
_HOLDING = text("""
SELECT a.key, count(*) AS n FROM products p CROSS JOIN LATERAL jsonb_each(p.attributes) AS a(key, value)
WHERE p.product_type_id = :id GROUP BY a.key
""")
_VALUES = text("""
SELECT DISTINCT a.key, v.value FROM products p CROSS JOIN LATERAL jsonb_each(p.attributes) AS a(key, value)
CROSS JOIN LATERAL (
    SELECT jsonb_array_elements_text(a.value -> 'many') WHERE jsonb_typeof(a.value) = 'object'
    UNION ALL SELECT a.value #>> '{}' WHERE jsonb_typeof(a.value) <> 'object'
) AS v(value)
WHERE p.product_type_id = :id AND a.key = ANY(:codes)
""")


def _definitions(product_type: ProductType) -> list[dict[str, Any]]:
    return [
        {"code": d.code, "label": d.label, "kind": d.kind.value, "required": d.required, "unit": d.unit,
         "allowed": list(d.allowed), "multiple": d.multiple, "filterable": d.filterable, "facetable": d.facetable}
        for d in product_type.definitions
    ]


def _product_type(row: Any) -> ProductType:
    definitions = tuple(
        AttributeDefinition(code=d["code"], label=d["label"], kind=AttributeKind(d["kind"]), required=d["required"],
                            unit=d["unit"], allowed=tuple(d["allowed"]), multiple=d["multiple"],
                            filterable=d["filterable"], facetable=d["facetable"])
        for d in row.definitions
    )
    return ProductType(id=row.id, code=row.code, name=row.name, definitions=definitions, version=row.version)


class PostgresProductTypes:
    def __init__(self, conn: AsyncConnection, seen: list[Aggregate]) -> None:
        self._conn = conn
        self._seen = seen
        self._versions = LoadedVersions("product type")

    def _track(self, product_type: ProductType) -> ProductType:
        self._seen.append(product_type)
        self._versions.remember(product_type.id, product_type.version)
        return product_type

    async def add(self, product_type: ProductType) -> None:
        try:
            async with self._conn.begin_nested():
                await self._conn.execute(insert(_t).values(
                    id=product_type.id, code=product_type.code, name=product_type.name,
                    definitions=_definitions(product_type), version=product_type.version))
        except IntegrityError as error:
            if constraint_name(error) == "uq_product_types_code":
                raise ProductTypeCodeTaken(f"another product type has the code {product_type.code}") from None
            raise Conflict(str(error.orig)) from None
        self._track(product_type)

    async def _locked(self, type_id: str, *, shared: bool) -> ProductType:
        row = (await self._conn.execute(select(_t).where(_t.c.id == type_id).with_for_update(read=shared))).first()
        if row is None:
            raise ProductTypeNotFound(f"no product type {type_id}")
        return _product_type(row)

    async def get(self, type_id: str) -> ProductType:
        return self._track(await self._locked(type_id, shared=False))

    async def held(self, type_id: str) -> ProductType:
        return await self._locked(type_id, shared=True)

    async def save(self, product_type: ProductType) -> None:
        expected = self._versions.expected(product_type.id)
        if product_type.version == expected:
            return  # unchanged since it was loaded
        result = await self._conn.execute(
            update(_t).where(_t.c.id == product_type.id, _t.c.version == expected)
            .values(name=product_type.name, definitions=_definitions(product_type), version=product_type.version))
        if result.rowcount != 1:
            raise ConcurrencyConflict(f"product type {product_type.id} changed since it was read")
        self._versions.remember(product_type.id, product_type.version)

    async def remove(self, product_type: ProductType) -> None:
        expected = self._versions.expected(product_type.id)
        try:
            async with self._conn.begin_nested():
                result = await self._conn.execute(
                    delete(_t).where(_t.c.id == product_type.id, _t.c.version == expected))
        except IntegrityError:  # a product named it meanwhile (the foreign key): still in use
            raise ProductTypeInUse({"product_type": "products use it"}) from None
        if result.rowcount != 1:
            raise ConcurrencyConflict(f"product type {product_type.id} changed since it was read")

    async def usage(self, type_id: str) -> TypeUsage:
        products = await self._conn.scalar(select(func.count()).select_from(_p).where(_p.c.product_type_id == type_id))
        if not products:
            return TypeUsage()
        holding = {r.key: int(r.n) for r in await self._conn.execute(_HOLDING, {"id": type_id})}
        row = (await self._conn.execute(select(_t.c.definitions).where(_t.c.id == type_id))).first()
        enums = [d["code"] for d in (row.definitions if row else []) if d["kind"] == AttributeKind.ENUM.value]
        values: dict[str, set[str]] = {}
        if enums:
            for r in await self._conn.execute(_VALUES, {"id": type_id, "codes": enums}):
                values.setdefault(r.key, set()).add(r.value)
        return TypeUsage(products=int(products), holding=holding,
                         values={k: frozenset(v) for k, v in values.items()})

    async def all(self) -> list[ProductType]:
        return [_product_type(r) for r in await self._conn.execute(select(_t).order_by(_t.c.code))]

    async def get_many(self, type_ids: list[str]) -> dict[str, ProductType]:
        if not type_ids:
            return {}
        rows = await self._conn.execute(select(_t).where(_t.c.id == any_(_texts("type_ids", type_ids))))
        return {r.id: _product_type(r) for r in rows}

    async def products_of(self, type_ids: list[str]) -> list[str]:
        if not type_ids:
            return []
        rows = await self._conn.scalars(
            select(_p.c.id).where(_p.c.product_type_id == any_(_texts("type_ids", type_ids))).order_by(_p.c.id))
        return list(rows.all())


def _texts(name: str, values: list[str]) -> Any:
    return bindparam(name, sorted(set(values)), type_=ARRAY(String))
