"""Projection tables in the ``read`` schema. Upserts are version-aware: never regress."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec
from sqlalchemy import String, any_, bindparam, func, select, text, tuple_
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.postgres import tables as t
from adapters.postgres.pipeline import Pipeline, json_rows
from application.catalog.channel_view import priced_page
from application.catalog.listing import decode_cursor, descending, encode_cursor, scopes, sort_key
from application.catalog.read_models import ProductDocument, ProductPage, ProductQuery, StoredDocument
from application.inventory.read_models import Availability
from domain.inventory.reservation import SkuPolicy, availability_status


class PostgresCatalogReadModel:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def lock_products(self, product_ids: list[str]) -> None:
        if product_ids:
            await self._conn.execute(
                text("SELECT count(pg_advisory_xact_lock(hashtextextended('product:' || id, 0))) "
                     "FROM unnest(CAST(:ids AS text[])) AS id"),
                {"ids": sorted(set(product_ids))},
            )

    async def upsert_many(self, documents: list[ProductDocument]) -> None:
        if not documents:
            return
        rp = t.read_products
        statement = insert(rp)
        await self._conn.execute(
            statement.on_conflict_do_update(
                index_elements=[rp.c.id],
                set_={"slug": statement.excluded.slug, "version": statement.excluded.version,
                      "document": statement.excluded.document, "updated_at": func.now()},
            ),
            [{"id": d.id, "slug": d.slug, "version": d.version, "document": msgspec.to_builtins(d)} for d in documents],
        )
        await self._list(documents)

    async def upsert_changed(self, documents: list[ProductDocument]) -> list[str]:
        # PostgreSQL compares each document with the stored one (jsonb equality: the same fields and
        # values), so an unchanged document costs neither a write nor a read back into Python.
        if not documents:
            return []
        rp = t.read_products
        statement = insert(rp)
        result = await self._conn.execute(
            statement.on_conflict_do_update(
                index_elements=[rp.c.id],
                set_={"slug": statement.excluded.slug, "version": statement.excluded.version,
                      "document": statement.excluded.document, "updated_at": func.now()},
                where=rp.c.document.is_distinct_from(statement.excluded.document),
            ).returning(rp.c.id),
            [{"id": d.id, "slug": d.slug, "version": d.version, "document": msgspec.to_builtins(d)} for d in documents],
        )
        changed = {row.id for row in result}
        await self._list([d for d in documents if d.id in changed])
        return [d.id for d in documents if d.id in changed]

    async def _list(self, documents: list[ProductDocument]) -> None:
        """Keep ``read.product_listing`` in step: the documents' rows replaced by one per scope and currency
        (scopes: the whole catalog, and each category the product is in itself or through one below it, so
        a category page is one range scan of its own rows however deep the tree below it).
        The currencies' lock comes first: a backfill never sees rows this transaction is replacing."""
        if not documents:
            return
        active = [d for d in documents if d.status == "active"]
        currencies = await self._listing_currencies({p.currency for d in active for p in d.price_from})
        await self._conn.execute(text("DELETE FROM read.product_listing WHERE product_id = ANY(:ids)"),
                                 {"ids": [d.id for d in documents]})
        if not active:
            return
        rows = [
            {"scope": scope, "currency": currency, "product_id": d.id, "name": d.name,
             "price": 0 if not currency else next((p.amount for p in d.price_from if p.currency == currency), 0)}
            for d in active for scope in ["", *scopes(d)] for currency in ["", *currencies]
        ]
        await self._conn.execute(text(_LIST), {"rows": json_rows(rows)})

    async def _listing_currencies(self, needed: set[str]) -> list[str]:
        """Every listed product has a row in every currency of ``read.listing_currencies``. A product
        priced in a currency none had before adds it and gives every listed product a row in it (price 0,
        as unpriced products always sorted), under the exclusive lock; every other writer holds the shared
        one, so none writes its rows from a set that misses a currency added meanwhile."""
        if needed - set(await self._conn.scalars(select(t.read_listing_currencies.c.currency))):
            await self._conn.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
                                     {"key": _CURRENCIES_LOCK})
            known = set(await self._conn.scalars(select(t.read_listing_currencies.c.currency)))
            for currency in sorted(needed - known):
                await self._conn.execute(insert(t.read_listing_currencies).values(currency=currency))
                await self._conn.execute(text(_BACKFILL), {"currency": currency})
            return sorted(known | needed)
        await self._conn.execute(text("SELECT pg_advisory_xact_lock_shared(hashtextextended(:key, 0))"),
                                 {"key": _CURRENCIES_LOCK})
        return sorted(await self._conn.scalars(select(t.read_listing_currencies.c.currency)))

    async def _one(self, condition: Any) -> ProductDocument | None:
        row = (await self._conn.execute(select(t.read_products.c.document).where(condition))).first()
        return None if row is None else msgspec.convert(row[0], StoredDocument)

    async def product_by_slug(self, slug: str) -> ProductDocument | None:
        return await self._one(t.read_products.c.slug == slug)

    async def product_by_id(self, product_id: str) -> ProductDocument | None:
        return await self._one(t.read_products.c.id == product_id)

    async def versions(self, product_ids: list[str]) -> dict[str, int]:
        if not product_ids:
            return {}
        rp = t.read_products
        rows = await self._conn.execute(
            select(rp.c.id, rp.c.version).where(rp.c.id == any_(bindparam("ids", type_=ARRAY(String)))),
            {"ids": sorted(set(product_ids))},
        )
        return {row.id: row.version for row in rows}

    async def products_by_ids(self, product_ids: list[str]) -> dict[str, ProductDocument]:
        if not product_ids:
            return {}
        rp = t.read_products
        rows = await self._conn.execute(
            select(rp.c.id, rp.c.document).where(rp.c.id == any_(bindparam("ids", type_=ARRAY(String)))),
            {"ids": sorted(set(product_ids))},
        )
        return {row.id: msgspec.convert(row.document, StoredDocument) for row in rows}

    async def list_products(self, query: ProductQuery) -> ProductPage:
        # One index range scan of ``read.product_listing`` in the sort's order (scope, currency, key, id),
        # joined to the documents by id: the page costs the same at 50 products or 50,000. A currency no
        # listed product has a price in reads the '' rows, whose price is 0 like every unpriced product's.
        rl, rp = t.read_product_listing, t.read_products
        doc = rp.c.document
        known = select(t.read_listing_currencies.c.currency).where(
            t.read_listing_currencies.c.currency == query.currency).scalar_subquery()
        conditions: list[Any] = [rl.c.scope == (query.category_id or ""), rl.c.currency == func.coalesce(known, "")]
        for name, wanted in query.attributes.items():
            value = doc["attributes"][name]
            conditions.append((value.astext == wanted) | value.has_key(wanted)
                              | (func.lower(value.astext) == wanted.lower()) & (func.jsonb_typeof(value) == "boolean"))
        if query.min_price is not None:
            conditions.append(rl.c.price >= query.min_price)
        if query.max_price is not None:
            conditions.append(rl.c.price <= query.max_price)
        key: Any = {"name": rl.c.name_key, "price_asc": rl.c.price, "price_desc": rl.c.price}.get(query.sort)
        columns = [rl.c.product_id] if key is None else [key, rl.c.product_id]
        down = descending(query)
        if query.cursor:
            primary, last_id = decode_cursor(query.cursor)
            after = (last_id,) if key is None else (primary, last_id)
            conditions.append(tuple_(*columns) < tuple_(*after) if down else tuple_(*columns) > tuple_(*after))
        order = [c.desc() if down else c.asc() for c in columns]
        rows = (await self._conn.execute(
            select(doc).select_from(rl.join(rp, rp.c.id == rl.c.product_id))
            .where(*conditions).order_by(*order).limit(query.limit + 1)
        )).all()
        documents: list[ProductDocument] = [msgspec.convert(r[0], StoredDocument) for r in rows]
        page = documents[: query.limit]
        more = len(documents) > query.limit
        return priced_page(page, query, encode_cursor(sort_key(page[-1], query)) if more and page else None)


_CURRENCIES_LOCK = "read.listing_currencies"

_LIST = """
INSERT INTO read.product_listing (scope, currency, product_id, price, name_key)
SELECT r.scope, r.currency, r.product_id, r.price, lower(r.name)
FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(scope text, currency text, product_id text, price bigint, name text)
ON CONFLICT (scope, currency, product_id) DO UPDATE SET price = excluded.price, name_key = excluded.name_key
"""

_BACKFILL = """
INSERT INTO read.product_listing (scope, currency, product_id, price, name_key)
SELECT scope, :currency, product_id, 0, name_key FROM read.product_listing WHERE currency = ''
ON CONFLICT DO NOTHING
"""


class PostgresAvailabilityView:
    def __init__(self, conn: AsyncConnection, pipeline: Pipeline) -> None:
        self._conn = conn
        self._pipeline = pipeline

    async def refresh(self, sku: str) -> Availability:
        s, p = t.stock_items, t.inventory_policies
        available = await self._conn.scalar(
            select(func.coalesce(func.sum(s.c.on_hand - s.c.reserved - s.c.committed), 0)).where(s.c.sku == sku)
        )
        row = (await self._conn.execute(select(p).where(p.c.sku == sku))).first()
        policy = _policy(sku, row)
        document = _computed(sku, int(available), policy)
        fields = {"available": int(available), "status": document.status, "show_quantity": policy.show_quantity}
        statement = insert(t.read_availability).values(sku=sku, **fields)
        await self._conn.execute(
            statement.on_conflict_do_update(index_elements=["sku"], set_={**fields, "updated_at": func.now()})
        )
        return document

    async def get(self, skus: Iterable[str]) -> dict[str, Availability]:
        a = t.read_availability
        rows = (await self._conn.execute(select(a).where(a.c.sku.in_(sorted(set(skus)))))).all()
        return {r.sku: _projected(r.sku, r.status, r.available, r.show_quantity) for r in rows}

    async def get_all(self, skus: Iterable[str]) -> dict[str, Availability]:
        wanted = sorted(set(skus))
        if not wanted:
            return {}
        # One statement, hand-written and prepared once: the SKUs travel as one array parameter, so its
        # text is the same whatever they are (a cart of 100 lines costs what a cart of one does).
        rows = await self._pipeline.read(_AVAILABILITY_OF, (wanted, wanted))
        return {
            r.sku: _projected(r.sku, r.projected_status, r.projected_available, r.projected_show_quantity)
            if r.projected_status is not None
            else _computed(r.sku, int(r.available or 0), _policy(r.sku, r if r.policy_sku is not None else None))
            for r in rows
        }


# The projected row where there is one, else the stock and policy it would be made of.
_AVAILABILITY_OF = """
SELECT asked.sku, a.status AS projected_status, a.available AS projected_available,
       a.show_quantity AS projected_show_quantity, on_shelf.available,
       p.sku AS policy_sku, p.track_inventory, p.allow_backorder, p.low_stock_threshold, p.show_quantity
FROM unnest(%s::text[]) AS asked(sku)
LEFT JOIN read.availability AS a ON a.sku = asked.sku
LEFT JOIN inventory_policies AS p ON p.sku = asked.sku
LEFT JOIN (
    SELECT sku, sum(on_hand - reserved - committed) AS available
    FROM stock_items WHERE sku = ANY(%s::text[]) GROUP BY sku
) AS on_shelf ON on_shelf.sku = asked.sku
"""


def _policy(sku: str, row: Any) -> SkuPolicy:
    if row is None:
        return SkuPolicy(sku=sku)  # no policy set: tracked, no backorder
    return SkuPolicy(sku=sku, track_inventory=row.track_inventory, allow_backorder=row.allow_backorder,
                     low_stock_threshold=row.low_stock_threshold, show_quantity=row.show_quantity)


def _computed(sku: str, available: int, policy: SkuPolicy) -> Availability:
    return Availability(sku=sku, status=availability_status(available, policy),
                        quantity=max(available, 0) if policy.show_quantity else None)


def _projected(sku: str, status: str, available: int, show_quantity: bool) -> Availability:
    return Availability(sku=sku, status=status, quantity=max(available, 0) if show_quantity else None)
