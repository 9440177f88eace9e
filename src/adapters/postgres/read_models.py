"""Projection tables in the ``read`` schema. Upserts are version-aware: never regress."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec
from sqlalchemy import String, bindparam, column, func, select, text, tuple_
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.postgres import tables as t
from application.catalog.listing import decode_cursor, descending, encode_cursor, sort_key
from application.catalog.read_models import ProductDocument, ProductPage, ProductQuery, summary
from application.inventory.read_models import Availability
from domain.inventory.reservation import SkuPolicy, availability_status


class PostgresCatalogReadModel:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def lock_product(self, product_id: str) -> None:
        await self._conn.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": f"product:{product_id}"}
        )

    async def upsert_product(self, document: ProductDocument) -> bool:
        values = {"slug": document.slug, "version": document.version, "document": msgspec.to_builtins(document)}
        statement = insert(t.read_products).values(id=document.id, **values)
        await self._conn.execute(
            statement.on_conflict_do_update(
                index_elements=[t.read_products.c.id], set_={**values, "updated_at": func.now()}
            )
        )
        return True

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

    async def _one(self, condition: Any) -> ProductDocument | None:
        row = (await self._conn.execute(select(t.read_products.c.document).where(condition))).first()
        return None if row is None else msgspec.convert(row[0], ProductDocument)

    async def product_by_slug(self, slug: str) -> ProductDocument | None:
        return await self._one(t.read_products.c.slug == slug)

    async def product_by_id(self, product_id: str) -> ProductDocument | None:
        return await self._one(t.read_products.c.id == product_id)

    async def list_products(self, query: ProductQuery) -> ProductPage:
        rp = t.read_products
        doc = rp.c.document
        price = func.coalesce(
            text("(jsonb_path_query_first(read.products.document, '$.price_from[*] ? (@.currency == $c).amount', "
                 "jsonb_build_object('c', CAST(:currency AS text))))::bigint").bindparams(currency=query.currency),
            0,
        )
        conditions: list[Any] = [doc["status"].astext == "active"]
        if query.category_id is not None:
            conditions.append(doc["category_ids"].has_key(query.category_id))
        for name, wanted in query.attributes.items():
            value = doc["attributes"][name]
            conditions.append((value.astext == wanted) | value.has_key(wanted)
                              | (func.lower(value.astext) == wanted.lower()) & (func.jsonb_typeof(value) == "boolean"))
        if query.min_price is not None:
            conditions.append(price >= query.min_price)
        if query.max_price is not None:
            conditions.append(price <= query.max_price)
        key: Any = {"name": func.lower(doc["name"].astext), "price_asc": price, "price_desc": price}.get(query.sort)
        columns = [rp.c.id] if key is None else [key, rp.c.id]
        down = descending(query)
        if query.cursor:
            primary, last_id = decode_cursor(query.cursor)
            after = (last_id,) if key is None else (primary, last_id)
            conditions.append(tuple_(*columns) < tuple_(*after) if down else tuple_(*columns) > tuple_(*after))
        order = [c.desc() if down else c.asc() for c in columns]
        rows = (
            await self._conn.execute(select(doc).where(*conditions).order_by(*order).limit(query.limit + 1))
        ).all()
        documents = [msgspec.convert(r[0], ProductDocument) for r in rows]
        page = documents[: query.limit]
        more = len(documents) > query.limit
        return ProductPage(
            items=[summary(d) for d in page],
            next_cursor=encode_cursor(sort_key(page[-1], query)) if more and page else None,
        )


class PostgresAvailabilityView:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

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
        a, p, s = t.read_availability, t.inventory_policies, t.stock_items
        # One statement: the projected row where there is one, else the stock and policy it would be made of.
        # The SKUs as one array parameter (not a VALUES list): the statement's text, and so SQLAlchemy's
        # compiled form and the server's prepared statement, is the same whatever the SKUs.
        asked = func.unnest(bindparam("skus", wanted, type_=ARRAY(String))).table_valued(
            column("sku", String)).render_derived(name="asked")
        on_shelf = (
            select(s.c.sku, func.sum(s.c.on_hand - s.c.reserved - s.c.committed).label("available"))
            .where(s.c.sku.in_(wanted)).group_by(s.c.sku).subquery("on_shelf")
        )
        rows = (await self._conn.execute(
            select(
                asked.c.sku, a.c.status.label("projected_status"), a.c.available.label("projected_available"),
                a.c.show_quantity.label("projected_show_quantity"), on_shelf.c.available,
                p.c.sku.label("policy_sku"), p.c.track_inventory, p.c.allow_backorder, p.c.low_stock_threshold,
                p.c.show_quantity,
            ).select_from(
                asked.outerjoin(a, a.c.sku == asked.c.sku).outerjoin(p, p.c.sku == asked.c.sku)
                .outerjoin(on_shelf, on_shelf.c.sku == asked.c.sku)
            )
        )).all()
        return {
            r.sku: _projected(r.sku, r.projected_status, r.projected_available, r.projected_show_quantity)
            if r.projected_status is not None
            else _computed(r.sku, int(r.available or 0), _policy(r.sku, r if r.policy_sku is not None else None))
            for r in rows
        }


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
