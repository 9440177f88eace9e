"""The catalog's domain errors (``domain.catalog.product`` re-exports the product ones, as it always has)."""

from __future__ import annotations

from domain.shared.errors import Conflict, InvalidInput, NotFound


class CatalogError(InvalidInput):
    """A catalog rule was broken."""


class ProductNotFound(NotFound):
    pass


class DuplicateSku(Conflict):
    pass


class DuplicateSlug(Conflict):
    pass


class AttributesRefused(CatalogError):
    """Attribute values its product type does not accept; ``errors`` names each attribute and why."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in sorted(errors.items())))
        self.errors = errors


class ProductTypeNotFound(NotFound):
    pass


class ProductTypeCodeTaken(Conflict):
    pass


class ProductTypeInUse(Conflict):
    """A change existing products of the type would no longer conform to, or a delete while products use it;
    ``errors`` names each attribute (or ``product_type``) and why."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in sorted(errors.items())))
        self.errors = errors
