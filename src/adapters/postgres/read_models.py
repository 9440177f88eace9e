"""Projection tables in the ``read`` schema. Upserts are version-aware: never regress."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec
from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.postgres import tables as t
from application.catalog.read_models import ProductDocument
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

    async def _one(self, condition: Any) -> ProductDocument | None:
        row = (await self._conn.execute(select(t.read_products.c.document).where(condition))).first()
        return None if row is None else msgspec.convert(row[0], ProductDocument)

    async def product_by_slug(self, slug: str) -> ProductDocument | None:
        return await self._one(t.read_products.c.slug == slug)

    async def product_by_id(self, product_id: str) -> ProductDocument | None:
        return await self._one(t.read_products.c.id == product_id)


class PostgresAvailabilityView:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def refresh(self, sku: str) -> Availability:
        s, p = t.stock_items, t.inventory_policies
        available = await self._conn.scalar(
            select(func.coalesce(func.sum(s.c.on_hand - s.c.reserved), 0)).where(s.c.sku == sku)
        )
        row = (await self._conn.execute(select(p).where(p.c.sku == sku))).first()
        policy = (
            SkuPolicy(sku=sku, track_inventory=row.track_inventory, allow_backorder=row.allow_backorder,
                      low_stock_threshold=row.low_stock_threshold, show_quantity=row.show_quantity)
            if row else SkuPolicy(sku=sku)
        )
        document = Availability(
            sku=sku, status=availability_status(int(available), policy),
            quantity=max(int(available), 0) if policy.show_quantity else None,
        )
        values = {"available": int(available), "status": document.status, "show_quantity": policy.show_quantity}
        statement = insert(t.read_availability).values(sku=sku, **values)
        await self._conn.execute(
            statement.on_conflict_do_update(index_elements=["sku"], set_={**values, "updated_at": func.now()})
        )
        return document

    async def get(self, skus: Iterable[str]) -> dict[str, Availability]:
        a = t.read_availability
        rows = (await self._conn.execute(select(a).where(a.c.sku.in_(sorted(set(skus)))))).all()
        return {
            r.sku: Availability(sku=r.sku, status=r.status, quantity=max(r.available, 0) if r.show_quantity else None)
            for r in rows
        }
