"""What the search index holds per product, built from the catalog document and availability."""

from __future__ import annotations

from typing import Any

import msgspec

from application.catalog.listing import scopes
from application.catalog.read_models import ProductDocument
from application.inventory.read_models import Availability

SELLABLE = frozenset({"in_stock", "low", "backorder", "untracked"})


class SearchDocument(msgspec.Struct, frozen=True, kw_only=True):
    """One active product as every search adapter indexes it. ``attributes`` values are text."""

    id: str
    slug: str
    name: str
    description: str = ""
    category_ids: list[str] = []  # every category it is in, itself or through one below: a filter on a parent finds it
    category_names: list[str] = []
    attributes: dict[str, list[str]] = {}
    # A typed product's: the attributes its type marks filterable, and facetable (the others are only words to
    # search); None, an untyped product's: every attribute is both, as its values suggest.
    filterable: list[str] | None = None
    facetable: list[str] | None = None
    prices: dict[str, int] = {}  # currency -> lowest price in minor units
    in_stock: bool = True
    sold: int = 0  # units sold, for "bestselling"; 0 until an order context feeds it
    language: str = "english"

    def tokens(self) -> list[str]:
        """Attribute filters as ``name=value`` tokens (one per value of each filterable attribute)."""
        return self._tokens(self.filterable)

    def facet_tokens(self) -> list[str]:
        """The tokens facets count: those of the facetable attributes."""
        return self._tokens(self.facetable)

    def _tokens(self, names: list[str] | None) -> list[str]:
        return [f"{name}={value}" for name, values in sorted(self.attributes.items()) for value in values
                if names is None or name in names]

    def keywords(self) -> str:
        """Attribute values, category ids and category names as searchable words."""
        return " ".join([*(v for values in self.attributes.values() for v in values), *self.category_ids,
                         *self.category_names])


def _values(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value if v is not None]
    if isinstance(value, bool):
        return [str(value).lower()]
    return [] if value is None else [str(value)]


def build_search_document(
    document: ProductDocument, availability: dict[str, Availability], *, sold: int = 0, language: str = "english"
) -> SearchDocument | None:
    """The indexable form, or None when shoppers must not find the product (not active)."""
    if document.status != "active":
        return None
    skus = [v.sku for v in document.variants]
    # No availability recorded yet means inventory has not spoken: treat as sellable, as the product page does.
    in_stock = not skus or any(availability[s].status in SELLABLE if s in availability else True for s in skus)
    typed = document.product_type is not None
    return SearchDocument(
        id=document.id, slug=document.slug, name=document.name, description=document.description,
        category_ids=scopes(document), category_names=[c.name for c in document.categories],
        attributes={k: _values(v) for k, v in sorted(document.attributes.items()) if _values(v)},
        filterable=sorted(a.code for a in document.attribute_details if a.filterable) if typed else None,
        facetable=sorted(a.code for a in document.attribute_details if a.facetable) if typed else None,
        prices={p.currency: p.amount for p in document.price_from}, in_stock=in_stock, sold=sold,
        language=language,
    )
