"""The category tree: one aggregate, since a move renumbers siblings and must never make a cycle."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from domain.catalog.product import CatalogError, check_slug
from domain.shared.errors import Conflict, NotFound
from domain.shared.events import Aggregate, DomainEvent

TREE_ID = "categories"


class CategoryNotFound(NotFound):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class Category:
    id: str
    name: str
    slug: str
    parent_id: str | None
    position: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CategoryTreeChanged(DomainEvent):
    topic = "catalog.category_tree_changed.v1"
    categories: tuple[Category, ...]


class CategoryTree(Aggregate):
    def __init__(self, categories: list[Category] | None = None, *, version: int = 0) -> None:
        self.id = TREE_ID
        self.nodes = {c.id: c for c in categories or []}
        self.version = version
        self.events = []

    def children(self, parent_id: str | None) -> list[Category]:
        return sorted((c for c in self.nodes.values() if c.parent_id == parent_id), key=lambda c: c.position)

    def get(self, category_id: str) -> Category:
        try:
            return self.nodes[category_id]
        except KeyError:
            raise CategoryNotFound(f"no category {category_id}") from None

    def subtree(self, category_id: str) -> list[str]:
        """The category and all below it."""
        found = [category_id]
        for child in self.children(category_id):
            found.extend(self.subtree(child.id))
        return found

    def _place(self, category: Category, position: int | None) -> None:
        siblings = [c for c in self.children(category.parent_id) if c.id != category.id]
        index = len(siblings) if position is None else max(0, min(position, len(siblings)))
        siblings.insert(index, category)
        for n, sibling in enumerate(siblings):
            self.nodes[sibling.id] = replace(sibling, position=n)

    def _renumber(self, parent_id: str | None) -> None:
        for n, sibling in enumerate(self.children(parent_id)):
            self.nodes[sibling.id] = replace(sibling, position=n)

    def add(self, *, id: str, name: str, slug: str, parent_id: str | None, position: int | None,
            now: datetime) -> None:
        if not name.strip():
            raise CatalogError("a category needs a name")
        check_slug(slug)
        if any(c.slug == slug for c in self.nodes.values()):
            raise Conflict(f"a category is already at {slug!r}")
        if parent_id is not None:
            self.get(parent_id)
        self._place(Category(id=id, name=name.strip(), slug=slug, parent_id=parent_id, position=0), position)
        self._changed(now)

    def move(self, category_id: str, *, parent_id: str | None, position: int | None, now: datetime) -> None:
        """Move a category (and everything below it) under ``parent_id`` at ``position``."""
        category = self.get(category_id)
        if parent_id is not None:
            self.get(parent_id)
            if parent_id in self.subtree(category_id):
                raise CatalogError("a category cannot move below itself")
        old_parent = category.parent_id
        self._place(replace(category, parent_id=parent_id), position)
        if old_parent != parent_id:
            self._renumber(old_parent)
        self._changed(now)

    def rename(self, category_id: str, *, name: str, now: datetime) -> None:
        if not name.strip():
            raise CatalogError("a category needs a name")
        self.nodes[category_id] = replace(self.get(category_id), name=name.strip())
        self._changed(now)

    def _changed(self, now: datetime) -> None:
        self.version += 1
        self._record(
            CategoryTreeChanged(
                aggregate_id=TREE_ID, aggregate_version=self.version, occurred_at=now,
                categories=tuple(sorted(self.nodes.values(), key=lambda c: (c.parent_id or "", c.position))),
            )
        )
