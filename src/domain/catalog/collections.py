"""Manual collections: a merchandiser's ordered pick of products ("Summer edit")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.catalog.product import CatalogError, check_slug
from domain.shared.events import Aggregate, DomainEvent

MAX_PRODUCTS = 1000


@dataclass(frozen=True, slots=True, kw_only=True)
class CollectionChanged(DomainEvent):
    topic = "catalog.collection_changed.v1"
    name: str
    slug: str
    product_ids: tuple[str, ...]
    previous_slug: str | None = None  # a rename that moved its page: the page at the old slug is gone


@dataclass(frozen=True, slots=True, kw_only=True)
class CollectionDeleted(DomainEvent):
    topic = "catalog.collection_deleted.v1"
    slug: str


class Collection(Aggregate):
    def __init__(self, *, id: str, name: str, slug: str, product_ids: list[str] | None = None,
                 version: int = 0) -> None:
        self.id = id
        self.name = name
        self.slug = slug
        self.product_ids = list(product_ids or [])
        self.version = version
        self.events = []

    @classmethod
    def create(cls, *, id: str, name: str, slug: str, now: datetime) -> Collection:
        if not name.strip():
            raise CatalogError("a collection needs a name")
        check_slug(slug)
        collection = cls(id=id, name=name.strip(), slug=slug)
        collection._changed(now)
        return collection

    def arrange(self, product_ids: list[str], *, now: datetime) -> None:
        """Set the products and their order in one go (what a drag-and-drop editor sends)."""
        if len(set(product_ids)) != len(product_ids):
            raise CatalogError("a product appears twice in the collection")
        if len(product_ids) > MAX_PRODUCTS:
            raise CatalogError(f"a collection holds at most {MAX_PRODUCTS} products")
        self.product_ids = list(product_ids)
        self._changed(now)

    def rename(self, *, name: str, now: datetime, slug: str | None = None) -> None:
        """A new name and, given one, a new slug (its page moves there; a slug taken by another collection is
        the repository's to refuse)."""
        if not name.strip():
            raise CatalogError("a collection needs a name")
        if slug is not None:
            check_slug(slug)
        previous = self.slug
        self.name = name.strip()
        self.slug = previous if slug is None else slug
        self._changed(now, previous_slug=previous if self.slug != previous else None)

    def delete(self, *, now: datetime) -> None:
        """Gone from the storefront; the products in it are untouched."""
        self.version += 1
        self._record(CollectionDeleted(aggregate_id=self.id, aggregate_version=self.version, occurred_at=now,
                                       slug=self.slug))

    def _changed(self, now: datetime, *, previous_slug: str | None = None) -> None:
        self.version += 1
        self._record(
            CollectionChanged(aggregate_id=self.id, aggregate_version=self.version, occurred_at=now, name=self.name,
                              slug=self.slug, product_ids=tuple(self.product_ids), previous_slug=previous_slug)
        )
