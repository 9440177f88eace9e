from __future__ import annotations

from typing import Protocol

from application.catalog.read_models import ProductDocument, ProductPage, ProductQuery
from application.ports.unit_of_work import UnitOfWork
from domain.catalog.pricing import PriceList
from domain.catalog.product import Product


class ProductRepository(Protocol):
    async def add(self, product: Product) -> None:
        """Stage a new product; a duplicate SKU or slug is a Conflict."""
        ...

    async def add_many(self, products: list[Product]) -> None:
        """Stage many new products in one go (bulk loads); any duplicate fails them all."""
        ...

    async def get(self, product_id: str) -> Product:
        """The product, or ``ProductNotFound``."""
        ...

    async def save(self, product: Product) -> None:
        """Write a changed product unless someone else saved it since it was loaded (``ConcurrencyConflict``)."""
        ...

    async def existing_skus(self, skus: list[str]) -> set[str]: ...

    async def product_ids_for_skus(self, skus: list[str]) -> list[str]: ...

    async def all_ids(self) -> list[str]: ...

    async def get_many(self, product_ids: list[str]) -> list[Product]:
        """Products for reading (not tracked for events)."""
        ...


class PriceListRepository(Protocol):
    async def add(self, price_list: PriceList) -> None:
        """Stage a new list; a second list for the same currency and channel is a Conflict."""
        ...

    async def get(self, price_list_id: str, *, skus: list[str]) -> PriceList:
        """The list, locked, holding the prices of ``skus`` only (lists can be huge)."""
        ...

    async def save(self, price_list: PriceList) -> None:
        """Write the header and the prices named in ``price_list.changed`` (optimistic, as every ``save``)."""
        ...

    async def default_for(self, currency: str) -> PriceList | None:
        """The all-channels list of ``currency`` (locked, no prices loaded), if any."""
        ...

    async def for_skus(self, skus: list[str]) -> list[PriceList]:
        """Every list, each holding the prices of ``skus`` only."""
        ...


class CatalogReadModel(Protocol):
    async def lock_product(self, product_id: str) -> None:
        """Serialise projections of one product until the transaction ends."""
        ...

    async def upsert_product(self, document: ProductDocument) -> bool:
        """Store ``document`` (built from the current write side under ``lock_product``)."""
        ...

    async def upsert_many(self, documents: list[ProductDocument]) -> None:
        """Store many documents at once (rebuilds)."""
        ...

    async def product_by_slug(self, slug: str) -> ProductDocument | None: ...

    async def product_by_id(self, product_id: str) -> ProductDocument | None: ...

    async def list_products(self, query: ProductQuery) -> ProductPage:
        """Active products matching the query, one page after the cursor."""
        ...


class ProductReads(UnitOfWork, Protocol):
    """The slice other contexts read through ``catalog.queries``: products and their prices."""

    products: ProductRepository
    price_lists: PriceListRepository


class CatalogUnitOfWork(ProductReads, Protocol):
    catalog_view: CatalogReadModel
