"""Catalog errors raised by the catalog use cases and storefront reads (the domain's stay in domain.catalog)."""

from __future__ import annotations

from domain.catalog.product import CatalogError
from domain.shared.errors import InvalidInput, NotFound

__all__ = ["BadCursor", "CategoryPageNotFound", "CollectionPageNotFound", "NestedBundle", "ProductPageNotFound",
           "UnknownCategories", "UnknownFilter"]


class BadCursor(InvalidInput):
    pass


class UnknownFilter(InvalidInput):
    """A product listing was asked to filter on a parameter it does not know."""


class NestedBundle(CatalogError):
    """A bundle's component is itself a bundle: refused, not flattened (inventory holds one level of parts)."""


class UnknownCategories(InvalidInput):
    """A product names categories that do not exist (the problem lists them as ``category_ids``)."""

    def __init__(self, category_ids: list[str]) -> None:
        super().__init__(f"no such categories: {', '.join(category_ids)}")
        self.category_ids = category_ids


class ProductPageNotFound(NotFound):
    """No published product has this slug; the message is the problem's title."""


class CategoryPageNotFound(NotFound):
    """No category has this slug; the message is the problem's title."""


class CollectionPageNotFound(NotFound):
    """No collection has this slug; the message is the problem's title."""
