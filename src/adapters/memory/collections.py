"""In-memory collections and their storefront read model."""

from __future__ import annotations

from adapters.memory.database import MemoryDatabase
from adapters.memory.versions import MemoryVersions
from application.catalog.collections import CollectionEntry
from domain.catalog.collections import Collection
from domain.shared.errors import Conflict, NotFound
from domain.shared.events import Aggregate


class MemoryCollections:
    def __init__(self, data: MemoryDatabase, seen: list[Aggregate], versions: MemoryVersions) -> None:
        self._items: dict[str, Collection] = data.extra.setdefault("collections", {})
        self._seen = seen
        self._versions = versions

    async def add(self, collection: Collection) -> None:
        if any(c.slug == collection.slug for c in self._items.values()):
            raise Conflict(f"a collection is already at {collection.slug!r}")
        self._items[collection.id] = collection
        self._seen.append(collection)
        self._versions.remember("collection", collection.id, collection.version)

    async def get(self, collection_id: str) -> Collection:
        try:
            collection = self._items[collection_id]
        except KeyError:
            raise NotFound(f"collection {collection_id}") from None
        self._seen.append(collection)
        self._versions.remember("collection", collection.id, collection.version)
        return collection

    async def save(self, collection: Collection) -> None:
        stored = self._versions.database.extra.get("collections", {}).get(collection.id)
        if not self._versions.changed("collection", collection.id, collection.version,
                                      stored=None if stored is None else stored.version):
            return  # unchanged since it was loaded
        if any(c.slug == collection.slug and c.id != collection.id for c in self._items.values()):
            raise Conflict(f"a collection is already at {collection.slug!r}")
        self._items[collection.id] = collection
        self._versions.saved("collection", collection.id, collection.version)

    async def delete(self, collection: Collection) -> None:
        stored = self._versions.database.extra.get("collections", {}).get(collection.id)
        self._versions.changed("collection", collection.id, collection.version,
                               stored=None if stored is None else stored.version)
        del self._items[collection.id]
        self._versions.saved("collection", collection.id, collection.version)


class MemoryCollectionView:
    def __init__(self, data: MemoryDatabase) -> None:
        self._entries: dict[str, CollectionEntry] = data.extra.setdefault("collection_view", {})

    async def upsert(self, entry: CollectionEntry) -> bool:
        current = self._entries.get(entry.id)
        if current is not None and current.version >= entry.version:
            return False
        self._entries[entry.id] = entry
        return True

    async def remove(self, collection_id: str, version: int) -> None:
        current = self._entries.get(collection_id)
        if current is None or current.version < version:
            self._entries[collection_id] = CollectionEntry(id=collection_id, name="", slug="", product_ids=[],
                                                           version=version)  # a tombstone: no page at ""

    async def by_slug(self, slug: str) -> CollectionEntry | None:
        return next((e for e in self._entries.values() if e.slug == slug), None)
