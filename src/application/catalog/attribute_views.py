"""A typed product's attributes as its document shows them: with its type's labels, kinds and units."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import msgspec

from domain.catalog.attributes import AttributeValue
from domain.catalog.product import Product
from domain.catalog.types import ProductType


class ProductTypeRef(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    code: str
    name: str


class AttributeView(msgspec.Struct, frozen=True, kw_only=True):
    """A typed product's attribute as its type defines it: the label and unit to show it with, whether
    shoppers filter on it and see it among the facets."""

    code: str
    label: str
    kind: str  # text, number, boolean, enum or date
    value: Any  # as in ``attributes``: dates as ISO text, lists for several values
    unit: str | None = None
    filterable: bool = False
    facetable: bool = False


def shown(value: AttributeValue) -> Any:
    return list(value) if isinstance(value, tuple) else value.isoformat() if isinstance(value, date) else value


def typed_attributes(product: Product,
                     types: Mapping[str, ProductType]) -> tuple[ProductTypeRef | None, list[AttributeView]]:
    product_type = types.get(product.product_type_id) if product.product_type_id else None
    if product_type is None:
        return None, []
    details = [
        AttributeView(code=d.code, label=d.label, kind=d.kind.value, value=shown(product.attributes[d.code]),
                      unit=d.unit, filterable=d.filterable, facetable=d.facetable)
        for d in product_type.definitions if d.code in product.attributes
    ]
    return ProductTypeRef(id=product_type.id, code=product_type.code, name=product_type.name), details
