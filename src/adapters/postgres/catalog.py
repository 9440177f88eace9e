"""Products and their variants mapped by hand; optimistic saves by version.

Price lists are in ``price_lists``, the category tree in ``categories``, collections in ``collections``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import String, any_, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.postgres import tables as t
from adapters.postgres.repositories import constraint_name
from adapters.postgres.versions import LoadedVersions
from domain.catalog.product import (
    AttributeValue,
    Component,
    DuplicateSku,
    DuplicateSlug,
    Media,
    Option,
    Product,
    ProductNotFound,
    ProductStatus,
    Variant,
)
from domain.shared.errors import ConcurrencyConflict, Conflict
from domain.shared.events import Aggregate

_p, _v = t.products, t.product_variants


def _encode_attributes(attributes: dict[str, AttributeValue]) -> dict[str, Any]:
    encoded: dict[str, Any] = {}
    for key, value in attributes.items():
        if isinstance(value, date):
            encoded[key] = {"date": value.isoformat()}
        elif isinstance(value, tuple):
            encoded[key] = {"many": list(value)}
        else:
            encoded[key] = value
    return encoded


def _decode_attributes(stored: dict[str, Any]) -> dict[str, AttributeValue]:
    decoded: dict[str, AttributeValue] = {}
    for key, value in stored.items():
        if isinstance(value, dict) and "date" in value:
            decoded[key] = date.fromisoformat(value["date"])
        elif isinstance(value, dict) and "many" in value:
            decoded[key] = tuple(value["many"])
        else:
            decoded[key] = value
    return decoded


class PostgresProductRepository:
    def __init__(self, conn: AsyncConnection, seen: list[Aggregate]) -> None:
        self._conn = conn
        self._seen = seen
        self._versions = LoadedVersions("product")

    def _row(self, product: Product) -> dict[str, Any]:
        return {
            "name": product.name, "slug": product.slug, "description": product.description,
            "status": product.status.value,
            "options": [{"name": o.name, "values": list(o.values)} for o in product.options],
            "attributes": _encode_attributes(product.attributes), "category_ids": list(product.category_ids),
            "media": [{"url": m.url, "alt": m.alt} for m in product.media], "version": product.version,
            "tax_class": product.tax_class, "product_type_id": product.product_type_id,
        }

    @staticmethod
    def _variant_rows(product: Product) -> list[dict[str, Any]]:
        return [
            {"sku": v.sku, "product_id": product.id, "position": n, "option_values": v.option_values,
             "weight_grams": v.weight_grams, "barcode": v.barcode,
             "components": [{"sku": c.sku, "quantity": c.quantity} for c in v.components],
             "requires_online_payment": v.requires_online_payment}
            for n, v in enumerate(product.variants)
        ]

    async def _write_variants(self, product: Product) -> None:
        await self._conn.execute(delete(_v).where(_v.c.product_id == product.id))
        if product.variants:
            await self._conn.execute(insert(_v), self._variant_rows(product))

    async def _guarded(self, action: Any) -> None:
        try:
            async with self._conn.begin_nested():
                await action()
        except IntegrityError as error:
            name = constraint_name(error)
            if name in ("pk_product_variants", "product_variants_pkey"):
                raise DuplicateSku("a SKU of this product is used by another product") from None
            if name == "uq_products_slug":
                raise DuplicateSlug("the slug is taken") from None
            raise Conflict(str(error.orig)) from None

    async def add(self, product: Product) -> None:
        async def write() -> None:
            await self._conn.execute(insert(_p).values(id=product.id, **self._row(product)))
            await self._write_variants(product)

        await self._guarded(write)
        self._seen.append(product)
        self._versions.remember(product.id, product.version)

    async def add_many(self, products: list[Product]) -> None:
        async def write() -> None:
            await self._conn.execute(insert(_p), [{"id": p.id, **self._row(p)} for p in products])
            variants = [row for p in products for row in self._variant_rows(p)]
            await self._conn.execute(insert(_v), variants)

        await self._guarded(write)
        self._seen.extend(products)
        for product in products:
            self._versions.remember(product.id, product.version)

    async def save(self, product: Product) -> None:
        expected = self._versions.expected(product.id)
        if product.version == expected:
            return  # unchanged since it was loaded

        async def write() -> None:
            result = await self._conn.execute(
                update(_p).where(_p.c.id == product.id, _p.c.version == expected).values(**self._row(product))
            )
            if result.rowcount != 1:
                raise ConcurrencyConflict(f"product {product.id} changed since it was read")
            await self._write_variants(product)

        await self._guarded(write)
        self._versions.remember(product.id, product.version)

    async def get(self, product_id: str) -> Product:
        row = (await self._conn.execute(select(_p).where(_p.c.id == product_id))).first()
        if row is None:
            raise ProductNotFound(product_id)
        variants = (
            await self._conn.execute(select(_v).where(_v.c.product_id == product_id).order_by(_v.c.position))
        ).all()
        product = self._product(row, list(variants))
        self._seen.append(product)
        self._versions.remember(product.id, product.version)
        return product

    @staticmethod
    def _product(row: Any, variants: list[Any]) -> Product:
        return Product(
            id=row.id, name=row.name, slug=row.slug, description=row.description, status=ProductStatus(row.status),
            options=tuple(Option(name=o["name"], values=tuple(o["values"])) for o in row.options),
            variants=tuple(
                Variant(sku=v.sku, option_values=dict(v.option_values), weight_grams=v.weight_grams, barcode=v.barcode,
                        components=tuple(Component(sku=c["sku"], quantity=c["quantity"]) for c in v.components),
                        requires_online_payment=v.requires_online_payment)
                for v in variants
            ),
            attributes=_decode_attributes(row.attributes), category_ids=tuple(row.category_ids),
            media=tuple(Media(url=m["url"], alt=m["alt"]) for m in row.media), version=row.version,
            tax_class=row.tax_class, product_type_id=row.product_type_id,
        )

    async def existing_skus(self, skus: list[str]) -> set[str]:
        return set((await self._conn.scalars(select(_v.c.sku).where(_v.c.sku.in_(skus)))).all())

    async def bundles_among(self, skus: list[str]) -> set[str]:
        if not skus:
            return set()
        rows = await self._conn.scalars(
            select(_v.c.sku).where(_v.c.sku == any_(_texts("skus", skus)), func.jsonb_array_length(_v.c.components) > 0)
        )
        return set(rows.all())

    async def in_categories(self, category_ids: list[str]) -> list[str]:
        if not category_ids:
            return []
        # ``?|`` on the JSONB array: the GIN index of migration 0028 answers it.
        rows = await self._conn.scalars(
            select(_p.c.id).where(_p.c.category_ids.has_any(_texts("categories", category_ids))).order_by(_p.c.id)
        )
        return list(rows.all())

    async def product_ids_for_skus(self, skus: list[str]) -> list[str]:
        rows = await self._conn.scalars(
            select(_v.c.product_id).where(_v.c.sku == any_(_texts("skus", skus))).distinct().order_by(_v.c.product_id)
        )
        return list(rows.all())

    async def all_ids(self) -> list[str]:
        return list((await self._conn.scalars(select(_p.c.id).order_by(_p.c.id))).all())

    async def get_many(self, product_ids: list[str]) -> list[Product]:
        if not product_ids:
            return []
        # The ids as one array parameter, not an IN list of as many: a bulk import's burst asks for thousands.
        ids = _texts("ids", product_ids)
        rows = (await self._conn.execute(select(_p).where(_p.c.id == any_(ids)).order_by(_p.c.id))).all()
        variants = (
            await self._conn.execute(select(_v).where(_v.c.product_id == any_(ids)).order_by(_v.c.position))
        ).all()
        by_product: dict[str, list[Any]] = {}
        for variant in variants:
            by_product.setdefault(variant.product_id, []).append(variant)
        products = [self._product(row, by_product.get(row.id, [])) for row in rows]
        self._seen.extend(products)
        for product in products:
            self._versions.remember(product.id, product.version)
        return products


def _texts(name: str, values: list[str]) -> Any:
    return bindparam(name, sorted(set(values)), type_=ARRAY(String))
