"""Products, variants and price lists mapped by hand; optimistic saves by version."""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec
from sqlalchemy import delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.postgres import tables as t
from adapters.postgres.repositories import constraint_name
from application.catalog.categories import CategoryNode, find, nest
from application.catalog.collections import CollectionEntry
from domain.catalog.categories import TREE_ID, Category, CategoryTree
from domain.catalog.collections import Collection
from domain.catalog.pricing import Price, PriceList, Sale, Tier
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
from domain.shared.errors import ConcurrencyConflict, Conflict, NotFound
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

    def _row(self, product: Product) -> dict[str, Any]:
        return {
            "name": product.name, "slug": product.slug, "description": product.description,
            "status": product.status.value,
            "options": [{"name": o.name, "values": list(o.values)} for o in product.options],
            "attributes": _encode_attributes(product.attributes), "category_ids": list(product.category_ids),
            "media": [{"url": m.url, "alt": m.alt} for m in product.media], "version": product.version,
        }

    async def _write_variants(self, product: Product) -> None:
        await self._conn.execute(delete(_v).where(_v.c.product_id == product.id))
        if product.variants:
            await self._conn.execute(
                insert(_v),
                [
                    {"sku": v.sku, "product_id": product.id, "position": n, "option_values": v.option_values,
                     "weight_grams": v.weight_grams, "barcode": v.barcode,
                     "components": [{"sku": c.sku, "quantity": c.quantity} for c in v.components]}
                    for n, v in enumerate(product.variants)
                ],
            )

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

    async def add_many(self, products: list[Product]) -> None:
        async def write() -> None:
            await self._conn.execute(insert(_p), [{"id": p.id, **self._row(p)} for p in products])
            variants = [
                {"sku": v.sku, "product_id": p.id, "position": n, "option_values": v.option_values,
                 "weight_grams": v.weight_grams, "barcode": v.barcode,
                 "components": [{"sku": c.sku, "quantity": c.quantity} for c in v.components]}
                for p in products for n, v in enumerate(p.variants)
            ]
            await self._conn.execute(insert(_v), variants)

        await self._guarded(write)
        self._seen.extend(products)

    async def save(self, product: Product, *, expected_version: int) -> None:
        async def write() -> None:
            result = await self._conn.execute(
                update(_p).where(_p.c.id == product.id, _p.c.version == expected_version).values(**self._row(product))
            )
            if result.rowcount != 1:
                raise ConcurrencyConflict(f"product {product.id} changed since it was read")
            await self._write_variants(product)

        await self._guarded(write)

    async def get(self, product_id: str) -> Product:
        row = (await self._conn.execute(select(_p).where(_p.c.id == product_id))).first()
        if row is None:
            raise ProductNotFound(product_id)
        variants = (
            await self._conn.execute(select(_v).where(_v.c.product_id == product_id).order_by(_v.c.position))
        ).all()
        product = self._product(row, list(variants))
        self._seen.append(product)
        return product

    @staticmethod
    def _product(row: Any, variants: list[Any]) -> Product:
        return Product(
            id=row.id, name=row.name, slug=row.slug, description=row.description, status=ProductStatus(row.status),
            options=tuple(Option(name=o["name"], values=tuple(o["values"])) for o in row.options),
            variants=tuple(
                Variant(sku=v.sku, option_values=dict(v.option_values), weight_grams=v.weight_grams, barcode=v.barcode,
                        components=tuple(Component(sku=c["sku"], quantity=c["quantity"]) for c in v.components))
                for v in variants
            ),
            attributes=_decode_attributes(row.attributes), category_ids=tuple(row.category_ids),
            media=tuple(Media(url=m["url"], alt=m["alt"]) for m in row.media), version=row.version,
        )

    async def existing_skus(self, skus: list[str]) -> set[str]:
        return set((await self._conn.scalars(select(_v.c.sku).where(_v.c.sku.in_(skus)))).all())

    async def product_ids_for_skus(self, skus: list[str]) -> list[str]:
        rows = await self._conn.scalars(
            select(_v.c.product_id).where(_v.c.sku.in_(skus)).distinct().order_by(_v.c.product_id)
        )
        return list(rows.all())

    async def all_ids(self) -> list[str]:
        return list((await self._conn.scalars(select(_p.c.id).order_by(_p.c.id))).all())

    async def get_many(self, product_ids: list[str]) -> list[Product]:
        if not product_ids:
            return []
        rows = (await self._conn.execute(select(_p).where(_p.c.id.in_(product_ids)).order_by(_p.c.id))).all()
        variants = (
            await self._conn.execute(select(_v).where(_v.c.product_id.in_(product_ids)).order_by(_v.c.position))
        ).all()
        by_product: dict[str, list[Any]] = {}
        for variant in variants:
            by_product.setdefault(variant.product_id, []).append(variant)
        return [self._product(row, by_product.get(row.id, [])) for row in rows]


_pl, _pr = t.price_lists, t.prices


class PostgresPriceLists:
    def __init__(self, conn: AsyncConnection, seen: list[Aggregate]) -> None:
        self._conn = conn
        self._seen = seen

    async def _write_prices(self, price_list: PriceList) -> None:
        """Upsert the prices that changed and delete the ones removed: never rewrite the whole list."""
        changed = sorted(price_list.changed)
        if not changed:
            return
        removed = [sku for sku in changed if sku not in price_list.prices]
        if removed:
            await self._conn.execute(
                delete(_pr).where(_pr.c.price_list_id == price_list.id, _pr.c.sku.in_(removed))
            )
        rows = [
            {"price_list_id": price_list.id, "sku": p.sku, "amount": p.amount,
             "tiers": [{"min_quantity": x.min_quantity, "amount": x.amount} for x in p.tiers],
             "sale_amount": p.sale.amount if p.sale else None,
             "sale_starts_at": p.sale.starts_at if p.sale else None,
             "sale_ends_at": p.sale.ends_at if p.sale else None}
            for sku in changed if (p := price_list.prices.get(sku)) is not None
        ]
        if rows:
            # executemany: SQLAlchemy batches the rows into multi-row statements itself.
            statement = pg_insert(_pr)
            await self._conn.execute(
                statement.on_conflict_do_update(
                    index_elements=[_pr.c.price_list_id, _pr.c.sku],
                    set_={c: statement.excluded[c] for c in ("amount", "tiers", "sale_amount", "sale_starts_at",
                                                           "sale_ends_at")},
                ),
                rows,
            )
        price_list.changed.clear()

    async def add(self, price_list: PriceList) -> None:
        try:
            async with self._conn.begin_nested():
                await self._conn.execute(
                    insert(_pl).values(id=price_list.id, name=price_list.name, currency=price_list.currency,
                                       channel=price_list.channel, version=price_list.version)
                )
        except IntegrityError:
            raise Conflict(f"a {price_list.currency} price list for this channel exists") from None
        await self._write_prices(price_list)
        self._seen.append(price_list)

    async def save(self, price_list: PriceList, *, expected_version: int) -> None:
        result = await self._conn.execute(
            update(_pl).where(_pl.c.id == price_list.id, _pl.c.version == expected_version)
            .values(name=price_list.name, version=price_list.version)
        )
        if result.rowcount != 1:
            raise ConcurrencyConflict(f"price list {price_list.id} changed since it was read")
        await self._write_prices(price_list)

    async def _load(self, rows: list[Any], skus: list[str] | None) -> list[PriceList]:
        if not rows:
            return []
        prices: list[Any] = []
        if skus is None or skus:
            query = select(_pr).where(_pr.c.price_list_id.in_([r.id for r in rows]))
            if skus is not None:
                query = query.where(_pr.c.sku.in_(sorted(set(skus))))
            prices = list((await self._conn.execute(query)).all())
        lists = []
        for row in rows:
            entries = {
                p.sku: Price(
                    sku=p.sku, amount=p.amount,
                    tiers=tuple(Tier(min_quantity=x["min_quantity"], amount=x["amount"]) for x in p.tiers),
                    sale=Sale(amount=p.sale_amount, starts_at=p.sale_starts_at, ends_at=p.sale_ends_at)
                    if p.sale_amount is not None else None,
                )
                for p in prices if p.price_list_id == row.id
            }
            lists.append(PriceList(id=row.id, name=row.name, currency=row.currency, channel=row.channel,
                                   prices=entries, version=row.version))
        return lists

    async def get(self, price_list_id: str, *, skus: list[str]) -> PriceList:
        rows = (await self._conn.execute(select(_pl).where(_pl.c.id == price_list_id).with_for_update())).all()
        if not rows:
            raise NotFound(f"price list {price_list_id}")
        [price_list] = await self._load(rows, skus)
        self._seen.append(price_list)
        return price_list

    async def default_for(self, currency: str) -> PriceList | None:
        rows = (
            await self._conn.execute(
                select(_pl).where(_pl.c.currency == currency, _pl.c.channel.is_(None)).with_for_update()
            )
        ).all()
        lists = await self._load(rows, [])
        self._seen.extend(lists)
        return lists[0] if lists else None

    async def for_skus(self, skus: list[str]) -> list[PriceList]:
        return await self._load((await self._conn.execute(select(_pl).order_by(_pl.c.id))).all(), skus)

class PostgresCategories:
    """The tree is saved whole under its version row (lock it, compare, rewrite the rows)."""

    def __init__(self, conn: AsyncConnection, seen: list[Aggregate]) -> None:
        self._conn = conn
        self._seen = seen

    async def tree(self) -> CategoryTree:
        version = await self._conn.scalar(
            select(t.category_tree.c.version).where(t.category_tree.c.id == TREE_ID).with_for_update()
        )
        rows = (await self._conn.execute(select(t.categories))).all()
        tree = CategoryTree(
            [Category(id=r.id, name=r.name, slug=r.slug, parent_id=r.parent_id, position=r.position) for r in rows],
            version=int(version or 0),
        )
        self._seen.append(tree)
        return tree

    async def save(self, tree: CategoryTree, *, expected_version: int) -> None:
        result = await self._conn.execute(
            update(t.category_tree)
            .where(t.category_tree.c.id == TREE_ID, t.category_tree.c.version == expected_version)
            .values(version=tree.version)
        )
        if result.rowcount != 1:
            raise ConcurrencyConflict("the category tree changed meanwhile")
        await self._conn.execute(delete(t.categories))
        if tree.nodes:
            await self._conn.execute(
                insert(t.categories),
                [{"id": c.id, "name": c.name, "slug": c.slug, "parent_id": c.parent_id, "position": c.position}
                 for c in tree.nodes.values()],
            )


class PostgresCategoryView:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def replace(self, categories: list[Category], version: int) -> bool:
        rc = t.read_categories
        nodes = msgspec.to_builtins(nest(categories))
        statement = pg_insert(rc).values(id=TREE_ID, version=version, nodes=nodes)
        result = await self._conn.execute(
            statement.on_conflict_do_update(
                index_elements=[rc.c.id], set_={"version": version, "nodes": nodes}, where=rc.c.version < version
            ).returning(rc.c.id)
        )
        return result.first() is not None

    async def nodes(self) -> list[CategoryNode]:
        stored = await self._conn.scalar(select(t.read_categories.c.nodes).where(t.read_categories.c.id == TREE_ID))
        return msgspec.convert(stored or [], list[CategoryNode])

    async def by_slug(self, slug: str) -> CategoryNode | None:
        return find(await self.nodes(), slug)


class PostgresCollections:
    def __init__(self, conn: AsyncConnection, seen: list[Aggregate]) -> None:
        self._conn = conn
        self._seen = seen

    async def add(self, collection: Collection) -> None:
        try:
            async with self._conn.begin_nested():
                await self._conn.execute(
                    insert(t.collections).values(id=collection.id, name=collection.name, slug=collection.slug,
                                                 product_ids=collection.product_ids, version=collection.version)
                )
        except IntegrityError:
            raise Conflict(f"a collection is already at {collection.slug!r}") from None
        self._seen.append(collection)

    async def get(self, collection_id: str) -> Collection:
        row = (
            await self._conn.execute(select(t.collections).where(t.collections.c.id == collection_id).with_for_update())
        ).first()
        if row is None:
            raise NotFound(f"collection {collection_id}")
        collection = Collection(id=row.id, name=row.name, slug=row.slug, product_ids=list(row.product_ids),
                                version=row.version)
        self._seen.append(collection)
        return collection

    async def save(self, collection: Collection, *, expected_version: int) -> None:
        result = await self._conn.execute(
            update(t.collections)
            .where(t.collections.c.id == collection.id, t.collections.c.version == expected_version)
            .values(name=collection.name, product_ids=collection.product_ids, version=collection.version)
        )
        if result.rowcount != 1:
            raise ConcurrencyConflict(f"collection {collection.id} changed meanwhile")


class PostgresCollectionView:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def upsert(self, entry: CollectionEntry) -> bool:
        rc = t.read_collections
        values = {"slug": entry.slug, "version": entry.version, "entry": msgspec.to_builtins(entry)}
        statement = pg_insert(rc).values(id=entry.id, **values)
        result = await self._conn.execute(
            statement.on_conflict_do_update(index_elements=[rc.c.id], set_=values, where=rc.c.version < entry.version)
            .returning(rc.c.id)
        )
        return result.first() is not None

    async def by_slug(self, slug: str) -> CollectionEntry | None:
        stored = await self._conn.scalar(select(t.read_collections.c.entry).where(t.read_collections.c.slug == slug))
        return None if stored is None else msgspec.convert(stored, CollectionEntry)
