"""In-memory product media: galleries (in the fake database) and a media storage in a dict."""

from __future__ import annotations

import copy

from adapters.memory.database import MemoryDatabase
from adapters.memory.versions import MemoryVersions
from application.ports.media import StoredObject
from domain.catalog.media import Gallery
from domain.shared.errors import Conflict
from domain.shared.events import Aggregate


class MemoryGalleries:
    def __init__(self, data: MemoryDatabase, seen: list[Aggregate], versions: MemoryVersions) -> None:
        self._items: dict[str, Gallery] = data.extra.setdefault("galleries", {})
        self._products = data.products
        self._seen = seen
        self._versions = versions

    async def get(self, product_id: str) -> Gallery:
        gallery = self._items.get(product_id) or Gallery(id=product_id)
        self._seen.append(gallery)
        self._versions.remember("gallery", product_id, gallery.version)
        return gallery

    async def save(self, gallery: Gallery) -> None:
        stored = self._versions.database.extra.get("galleries", {}).get(gallery.id)
        if not self._versions.changed("gallery", gallery.id, gallery.version,
                                      stored=None if stored is None else stored.version):
            return  # unchanged since it was loaded
        if gallery.id not in self._products:
            raise Conflict(f"no product {gallery.id} to hold a gallery")  # PostgreSQL's foreign key
        self._items[gallery.id] = gallery
        self._versions.saved("gallery", gallery.id, gallery.version)

    async def of_products(self, product_ids: list[str]) -> dict[str, Gallery]:
        return {i: copy.deepcopy(self._items[i]) for i in product_ids if i in self._items}


class MemoryMediaStorage:
    """Objects in a dict; ``objects`` lets a test look at what is stored."""

    def __init__(self, *, base_url: str = "/media/") -> None:
        self.objects: dict[str, StoredObject] = {}
        self._base_url = base_url

    def url(self, key: str) -> str:
        return self._base_url + key

    async def put(self, key: str, data: bytes, *, content_type: str, cache_control: str = "private") -> None:
        self.objects[key] = StoredObject(data=bytes(data), content_type=content_type, cache_control=cache_control)

    async def get(self, key: str) -> StoredObject | None:
        return self.objects.get(key)

    async def delete(self, keys: list[str]) -> None:
        for key in keys:
            self.objects.pop(key, None)
