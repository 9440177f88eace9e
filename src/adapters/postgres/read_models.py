"""Projection tables in the ``read`` schema. Upserts are version-aware: never regress."""

from __future__ import annotations

import msgspec
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.postgres import tables as t
from application.catalog.read_models import ProductDocument


class PostgresCatalogReadModel:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def upsert_product(self, document: ProductDocument) -> bool:
        statement = insert(t.read_products).values(
            id=document.id, slug=document.slug, version=document.version,
            document=msgspec.to_builtins(document),
        )
        statement = statement.on_conflict_do_update(
            index_elements=[t.read_products.c.id],
            set_={
                "slug": statement.excluded.slug,
                "version": statement.excluded.version,
                "document": statement.excluded.document,
                "updated_at": func.now(),
            },
            where=t.read_products.c.version < statement.excluded.version,
        )
        result = await self._conn.execute(statement.returning(t.read_products.c.id))
        return result.first() is not None

    async def product_by_slug(self, slug: str) -> ProductDocument | None:
        row = (
            await self._conn.execute(
                select(t.read_products.c.document).where(t.read_products.c.slug == slug)
            )
        ).first()
        if row is None:
            return None
        return msgspec.convert(row[0], ProductDocument)
