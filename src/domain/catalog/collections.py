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

    def _changed(self, now: datetime) -> None:
        self.version += 1
        self._record(
            CollectionChanged(aggregate_id=self.id, aggregate_version=self.version, occurred_at=now, name=self.name,
                              slug=self.slug, product_ids=tuple(self.product_ids))
        )
