"""Collections (optimistic saves by version) and their storefront read model."""

from __future__ import annotations

import msgspec
from sqlalchemy import delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.postgres import tables as t
from adapters.postgres.versions import LoadedVersions
from application.catalog.collections import CollectionEntry
from domain.catalog.collections import Collection
from domain.shared.errors import ConcurrencyConflict, Conflict, NotFound
from domain.shared.events import Aggregate


class PostgresCollections:
    def __init__(self, conn: AsyncConnection, seen: list[Aggregate]) -> None:
        self._conn = conn
        self._seen = seen
        self._versions = LoadedVersions("collection")

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
        self._versions.remember(collection.id, collection.version)

    async def get(self, collection_id: str) -> Collection:
        row = (
            await self._conn.execute(select(t.collections).where(t.collections.c.id == collection_id).with_for_update())
        ).first()
        if row is None:
            raise NotFound(f"collection {collection_id}")
        collection = Collection(id=row.id, name=row.name, slug=row.slug, product_ids=list(row.product_ids),
                                version=row.version)
        self._seen.append(collection)
        self._versions.remember(collection.id, collection.version)
        return collection

    async def save(self, collection: Collection) -> None:
        expected = self._versions.expected(collection.id)
        if collection.version == expected:
            return  # unchanged since it was loaded
        try:
            async with self._conn.begin_nested():
                result = await self._conn.execute(
                    update(t.collections)
                    .where(t.collections.c.id == collection.id, t.collections.c.version == expected)
                    .values(name=collection.name, slug=collection.slug, product_ids=collection.product_ids,
                            version=collection.version)
                )
        except IntegrityError:
            raise Conflict(f"a collection is already at {collection.slug!r}") from None
        if result.rowcount != 1:
            raise ConcurrencyConflict(f"collection {collection.id} changed meanwhile")
        self._versions.remember(collection.id, collection.version)

    async def delete(self, collection: Collection) -> None:
        expected = self._versions.expected(collection.id)
        result = await self._conn.execute(
            delete(t.collections).where(t.collections.c.id == collection.id, t.collections.c.version == expected)
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

    async def remove(self, collection_id: str, version: int) -> None:
        # A tombstone: no slug (so no page, and the slug is free for another collection), the version kept.
        rc = t.read_collections
        tombstone = {"slug": None, "version": version,
                     "entry": msgspec.to_builtins(CollectionEntry(id=collection_id, name="", slug="", product_ids=[],
                                                                  version=version))}
        statement = pg_insert(rc).values(id=collection_id, **tombstone)
        await self._conn.execute(
            statement.on_conflict_do_update(index_elements=[rc.c.id], set_=tombstone, where=rc.c.version < version)
        )

    async def by_slug(self, slug: str) -> CollectionEntry | None:
        stored = await self._conn.scalar(select(t.read_collections.c.entry).where(t.read_collections.c.slug == slug))
        return None if stored is None else msgspec.convert(stored, CollectionEntry)
