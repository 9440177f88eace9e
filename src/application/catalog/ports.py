from __future__ import annotations

from typing import Protocol

from application.catalog.read_models import ProductDocument
from application.ports.unit_of_work import UnitOfWork
from domain.catalog.product import Product


class ProductRepository(Protocol):
    async def add(self, product: Product) -> None:
        """Stage a new product; a duplicate SKU or slug fails at commit with a Conflict."""
        ...

    async def get(self, product_id: str) -> Product:
        """The product, or ``ProductNotFound``."""
        ...


class CatalogReadModel(Protocol):
    async def upsert_product(self, document: ProductDocument) -> bool:
        """Store ``document`` unless the same or a newer version is there; True if written."""
        ...

    async def product_by_slug(self, slug: str) -> ProductDocument | None: ...


class CatalogUnitOfWork(UnitOfWork, Protocol):
    products: ProductRepository
    catalog_view: CatalogReadModel
