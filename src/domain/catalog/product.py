"""The Product aggregate (the proving slice: one SKU, one price; the catalog issue grows it)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from domain.shared.errors import Conflict, InvalidInput, NotFound
from domain.shared.events import Aggregate, DomainEvent
from domain.shared.money import Money

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_SKU = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class CatalogError(InvalidInput):
    """A catalog rule was broken."""


class ProductNotFound(NotFound):
    pass


class DuplicateSku(Conflict):
    pass


class DuplicateSlug(Conflict):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class ProductCreated(DomainEvent):
    topic = "catalog.product_created.v1"
    name: str
    slug: str
    sku: str
    price: Money


def slugify(text: str) -> str:
    """Lower-case ASCII words joined by dashes: ``"Trail Runner 2"`` → ``"trail-runner-2"``."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    return "-".join(words)


class Product(Aggregate):
    """A sellable product."""

    def __init__(
        self, *, id: str, name: str, slug: str, sku: str, price: Money, version: int = 0
    ) -> None:
        self.id = id
        self.name = name
        self.slug = slug
        self.sku = sku
        self.price = price
        self.version = version
        self.events = []

    @classmethod
    def create(
        cls, *, id: str, name: str, sku: str, price: Money, now: datetime, slug: str | None = None
    ) -> Product:
        name = name.strip()
        if not name:
            raise CatalogError("a product needs a name")
        slug = slug or slugify(name)
        if not _SLUG.match(slug):
            raise CatalogError(f"invalid slug {slug!r}")
        if not _SKU.match(sku):
            raise CatalogError(f"invalid SKU {sku!r}")
        if price.amount < 0:
            raise CatalogError("a price cannot be negative")
        product = cls(id=id, name=name, slug=slug, sku=sku, price=price, version=1)
        product._record(
            ProductCreated(
                aggregate_id=id, aggregate_version=1, occurred_at=now,
                name=name, slug=slug, sku=sku, price=price,
            )
        )
        return product
