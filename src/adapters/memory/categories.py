"""In-memory category tree and its storefront read model."""

from __future__ import annotations

from adapters.memory.database import MemoryDatabase
from adapters.memory.versions import MemoryVersions
from application.catalog.categories import CategoryNode, find, nest
from domain.catalog.categories import TREE_ID, Category, CategoryTree
from domain.shared.events import Aggregate


class MemoryCategories:
    def __init__(self, data: MemoryDatabase, seen: list[Aggregate], versions: MemoryVersions) -> None:
        self._data = data
        self._seen = seen
        self._versions = versions

    async def tree(self) -> CategoryTree:
        stored = self._data.extra.get("category_tree")
        tree = CategoryTree(list(stored[1]), version=stored[0]) if stored else CategoryTree()
        self._seen.append(tree)
        self._versions.remember("category tree", TREE_ID, tree.version)
        return tree

    async def save(self, tree: CategoryTree) -> None:
        stored = self._versions.database.extra.get("category_tree")
        if not self._versions.changed("category tree", TREE_ID, tree.version,
                                      stored=stored[0] if stored else None):
            return  # unchanged since it was loaded
        self._data.extra["category_tree"] = (tree.version, list(tree.nodes.values()))
        self._versions.saved("category tree", TREE_ID, tree.version)

    async def known(self, category_ids: list[str]) -> set[str]:
        return set(category_ids) & {c.id for c in await self.current()}

    async def current(self) -> list[Category]:
        stored = self._data.extra.get("category_tree")
        return list(stored[1]) if stored else []


class MemoryCategoryView:
    def __init__(self, data: MemoryDatabase) -> None:
        self._data = data

    async def replace(self, categories: list[Category], version: int) -> bool:
        current = self._data.extra.get("category_view")
        if current is not None and current[0] >= version:
            return False
        self._data.extra["category_view"] = (version, categories)
        return True

    async def nodes(self) -> list[CategoryNode]:
        current = self._data.extra.get("category_view")
        return nest(current[1]) if current else []

    async def by_slug(self, slug: str) -> CategoryNode | None:
        return find(await self.nodes(), slug)
