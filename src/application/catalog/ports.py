from __future__ import annotations

from typing import Protocol

from application.catalog.read_models import ProductDocument, ProductPage, ProductQuery
from application.ports.unit_of_work import UnitOfWork
from domain.catalog.categories import Category, CategoryTree
from domain.catalog.media import Gallery
from domain.catalog.pricing import PriceList
from domain.catalog.product import Product
from domain.catalog.types import ProductType, TypeUsage


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

    async def bundles_among(self, skus: list[str]) -> set[str]:
        """Those of ``skus`` that are bundles (variants with components)."""
        ...

    async def product_ids_for_skus(self, skus: list[str]) -> list[str]: ...

    async def in_categories(self, category_ids: list[str]) -> list[str]:
        """The ids of the products naming any of these categories themselves (not through a sub-category)."""
        ...

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


class CategoryRepository(Protocol):
    async def tree(self) -> CategoryTree:
        """The whole tree, locked for this transaction."""
        ...

    async def save(self, tree: CategoryTree) -> None: ...

    async def known(self, category_ids: list[str]) -> set[str]:
        """Those of ``category_ids`` that are categories. The tree is held (shared) until the transaction
        ends: none of them can be deleted before a product naming it commits."""
        ...

    async def current(self) -> list[Category]:
        """Every category as committed, unlocked (the projections read it)."""
        ...


class ProductTypeRepository(Protocol):
    async def add(self, product_type: ProductType) -> None:
        """Stage a new type; a code another type has is ``ProductTypeCodeTaken``."""
        ...

    async def get(self, type_id: str) -> ProductType:
        """The type, to change it: locked until the transaction ends, so no product is checked against it
        meanwhile (``ProductTypeNotFound``)."""
        ...

    async def held(self, type_id: str) -> ProductType:
        """The type a product is checked against, held (shared) until the transaction ends: it cannot
        change before the product commits (``ProductTypeNotFound``)."""
        ...

    async def save(self, product_type: ProductType) -> None:
        """Write a changed type (optimistic, as every ``save``)."""
        ...

    async def remove(self, product_type: ProductType) -> None:
        """Delete a type loaded by ``get`` (its ``delete`` said no product uses it)."""
        ...

    async def usage(self, type_id: str) -> TypeUsage:
        """What the products of the type hold now (read after ``get`` locked it)."""
        ...

    async def all(self) -> list[ProductType]:
        """Every type by code, for reading."""
        ...

    async def get_many(self, type_ids: list[str]) -> dict[str, ProductType]:
        """These types (those that exist) by id, for reading."""
        ...

    async def products_of(self, type_ids: list[str]) -> list[str]:
        """The ids of the products of these types."""
        ...


class CatalogReadModel(Protocol):
    async def lock_products(self, product_ids: list[str]) -> None:
        """Serialise projections of these products until the transaction ends: their locks are taken in
        one go and in id order, so two transactions locking overlapping sets never deadlock."""
        ...

    async def upsert_many(self, documents: list[ProductDocument]) -> None:
        """Store many documents at once, every one written again (rebuilds)."""
        ...

    async def upsert_changed(self, documents: list[ProductDocument]) -> list[str]:
        """Store the documents (built from the current write side under ``lock_products``) that are new or
        read differently from the stored ones, leaving the others untouched; returns their ids."""
        ...

    async def product_by_slug(self, slug: str) -> ProductDocument | None: ...

    async def product_by_id(self, product_id: str) -> ProductDocument | None: ...

    async def versions(self, product_ids: list[str]) -> dict[str, int]:
        """The product version each stored document was built from, by id (those that have one)."""
        ...

    async def products_by_ids(self, product_ids: list[str]) -> dict[str, ProductDocument]:
        """The stored documents of these products (those that have one), by id."""
        ...

    async def list_products(self, query: ProductQuery) -> ProductPage:
        """Active products matching the query, one page after the cursor."""
        ...


class SalesChannel(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def currency(self) -> str: ...


class SalesChannels(Protocol):
    """The shop's configured sales channels (``EMPORIUM_CHANNELS``), as the catalog needs them."""

    def find(self, name: str) -> SalesChannel | None:
        """The channel of that name, or ``None``."""
        ...


class GalleryRepository(Protocol):
    async def get(self, product_id: str) -> Gallery:
        """The product's gallery, locked until the transaction ends (an empty one, version 0, if it has none)."""
        ...

    async def save(self, gallery: Gallery) -> None:
        """Write a changed gallery unless someone else saved it since it was loaded (``ConcurrencyConflict``)."""
        ...

    async def of_products(self, product_ids: list[str]) -> dict[str, Gallery]:
        """The galleries of these products (those that have one), unlocked, for reading."""
        ...


class ProductReads(UnitOfWork, Protocol):
    """The slice other contexts read through ``catalog.queries``: products and their prices."""

    products: ProductRepository
    price_lists: PriceListRepository


class CatalogUnitOfWork(ProductReads, Protocol):
    catalog_view: CatalogReadModel
    categories: CategoryRepository
    product_types: ProductTypeRepository
    galleries: GalleryRepository
