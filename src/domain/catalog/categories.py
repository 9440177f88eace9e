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


class CategoryInUse(Conflict):
    """A category still holding sub-categories (or products) cannot be deleted."""


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
    # The categories whose name, slug or place changed (a renamed or moved one and all below it, a deleted
    # one): the storefront documents of their products show them, so they are built again.
    changed: tuple[str, ...] = ()


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
        self._changed(now, changed=())

    def move(self, category_id: str, *, parent_id: str | None, position: int | None, now: datetime) -> None:
        """Move a category (and everything below it) under ``parent_id`` at ``position``."""
        category = self.get(category_id)
        if parent_id is not None:
            self.get(parent_id)
            if parent_id in self.subtree(category_id):
                raise CatalogError("a category cannot move below itself")
        old_parent = category.parent_id
        self._place(replace(category, parent_id=parent_id), position)
        moved = old_parent != parent_id
        if moved:
            self._renumber(old_parent)
        # A new parent changes what every category below it sits in; a new position among siblings does not.
        self._changed(now, changed=tuple(self.subtree(category_id)) if moved else ())

    def rename(self, category_id: str, *, name: str, now: datetime, slug: str | None = None) -> None:
        """A new name (and, given one, a new slug); the categories below show it in their paths."""
        if not name.strip():
            raise CatalogError("a category needs a name")
        category = self.get(category_id)
        if slug is not None:
            check_slug(slug)
            if any(c.slug == slug and c.id != category_id for c in self.nodes.values()):
                raise Conflict(f"a category is already at {slug!r}")
        self.nodes[category_id] = replace(category, name=name.strip(), slug=category.slug if slug is None else slug)
        self._changed(now, changed=tuple(self.subtree(category_id)))

    def remove(self, category_id: str, *, now: datetime) -> None:
        """Delete a category that has no sub-categories (whether products remain in it is the caller's to
        check: they are other aggregates)."""
        category = self.get(category_id)
        if self.children(category_id):
            raise CategoryInUse(f"category {category_id} has sub-categories: move or delete them first")
        del self.nodes[category_id]
        self._renumber(category.parent_id)
        self._changed(now, changed=(category_id,))

    def _changed(self, now: datetime, *, changed: tuple[str, ...]) -> None:
        self.version += 1
        self._record(
            CategoryTreeChanged(
                aggregate_id=TREE_ID, aggregate_version=self.version, occurred_at=now,
                categories=tuple(sorted(self.nodes.values(), key=lambda c: (c.parent_id or "", c.position))),
                changed=changed,
            )
        )

    def path(self, category_id: str) -> list[Category]:
        """The category and its ancestors, the root first (empty for an id not in the tree)."""
        found: list[Category] = []
        current = self.nodes.get(category_id)
        while current is not None and current not in found:
            found.insert(0, current)
            current = self.nodes.get(current.parent_id) if current.parent_id is not None else None
        return found
