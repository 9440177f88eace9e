"""In-memory catalog fakes: products, price lists and the storefront's product read model."""

from __future__ import annotations

from adapters.memory.database import MemoryDatabase
from adapters.memory.versions import MemoryVersions
from application.catalog.channel_view import priced_page
from application.catalog.listing import (
    attribute_matches,
    decode_cursor,
    descending,
    encode_cursor,
    price_in,
    scopes,
    sort_key,
)
from application.catalog.read_models import ProductDocument, ProductPage, ProductQuery
from domain.catalog.pricing import PriceList
from domain.catalog.product import DuplicateSku, DuplicateSlug, Product, ProductNotFound
from domain.shared.errors import Conflict, NotFound
from domain.shared.events import Aggregate


class MemoryProductRepository:
    def __init__(self, data: MemoryDatabase, seen: list[Aggregate], versions: MemoryVersions) -> None:
        self._data = data
        self._seen = seen
        self._versions = versions

    def _track(self, product: Product) -> Product:
        self._seen.append(product)
        self._versions.remember("product", product.id, product.version)
        return product

    def _check_unique(self, product: Product) -> None:
        skus = {v.sku for v in product.variants}
        for other in self._data.products.values():
            if other.id == product.id:
                continue
            if skus & {v.sku for v in other.variants}:
                raise DuplicateSku(f"SKU {sorted(skus & {v.sku for v in other.variants})[0]} exists")
            if other.slug == product.slug:
                raise DuplicateSlug(f"slug {product.slug} exists")

    async def add(self, product: Product) -> None:
        self._check_unique(product)
        self._data.products[product.id] = product
        self._track(product)

    async def add_many(self, products: list[Product]) -> None:
        for product in products:
            await self.add(product)

    async def get(self, product_id: str) -> Product:
        try:
            product = self._data.products[product_id]
        except KeyError:
            raise ProductNotFound(product_id) from None
        return self._track(product)

    async def save(self, product: Product) -> None:
        stored = self._versions.database.products.get(product.id)
        if not self._versions.changed("product", product.id, product.version,
                                      stored=None if stored is None else stored.version):
            return  # unchanged since it was loaded
        self._check_unique(product)
        self._data.products[product.id] = product
        self._versions.saved("product", product.id, product.version)

    async def existing_skus(self, skus: list[str]) -> set[str]:
        wanted = set(skus)
        return {v.sku for p in self._data.products.values() for v in p.variants if v.sku in wanted}

    async def bundles_among(self, skus: list[str]) -> set[str]:
        wanted = set(skus)
        return {v.sku for p in self._data.products.values() for v in p.variants if v.sku in wanted and v.is_bundle}

    async def in_categories(self, category_ids: list[str]) -> list[str]:
        wanted = set(category_ids)
        return sorted(p.id for p in self._data.products.values() if wanted.intersection(p.category_ids))

    async def product_ids_for_skus(self, skus: list[str]) -> list[str]:
        wanted = set(skus)
        return sorted(p.id for p in self._data.products.values() if any(v.sku in wanted for v in p.variants))

    async def all_ids(self) -> list[str]:
        return sorted(self._data.products)

    async def get_many(self, product_ids: list[str]) -> list[Product]:
        return [self._track(self._data.products[i]) for i in product_ids if i in self._data.products]


class MemoryPriceLists:
    def __init__(self, data: MemoryDatabase, seen: list[Aggregate], versions: MemoryVersions) -> None:
        self._data = data
        self._seen = seen
        self._versions = versions

    def _track(self, price_list: PriceList) -> PriceList:
        self._seen.append(price_list)
        self._versions.remember("price list", price_list.id, price_list.version)
        return price_list

    async def add(self, price_list: PriceList) -> None:
        for other in self._data.price_lists.values():
            if (other.currency, other.channel) == (price_list.currency, price_list.channel):
                raise Conflict(f"a {price_list.currency} list for channel {price_list.channel} exists")
        self._data.price_lists[price_list.id] = price_list
        self._track(price_list)

    async def get(self, price_list_id: str, *, skus: list[str]) -> PriceList:
        try:
            price_list = self._data.price_lists[price_list_id]
        except KeyError:
            raise NotFound(f"price list {price_list_id}") from None
        return self._track(price_list)

    async def save(self, price_list: PriceList) -> None:
        stored = self._versions.database.price_lists.get(price_list.id)
        if not self._versions.changed("price list", price_list.id, price_list.version,
                                      stored=None if stored is None else stored.version):
            return  # unchanged since it was loaded
        price_list.changed.clear()
        self._data.price_lists[price_list.id] = price_list
        self._versions.saved("price list", price_list.id, price_list.version)

    async def default_for(self, currency: str) -> PriceList | None:
        for price_list in self._data.price_lists.values():
            if price_list.currency == currency and price_list.channel is None:
                return self._track(price_list)
        return None

    async def for_skus(self, skus: list[str]) -> list[PriceList]:
        # The fake keeps whole lists; the contract allows extra prices beyond ``skus``.
        return sorted(self._data.price_lists.values(), key=lambda p: p.id)


class MemoryCatalogReadModel:
    def __init__(self, data: MemoryDatabase) -> None:
        self._data = data

    async def lock_products(self, product_ids: list[str]) -> None:
        return None  # one unit of work at a time touches the fake

    async def upsert_many(self, documents: list[ProductDocument]) -> None:
        for document in documents:
            self._data.product_documents[document.id] = document

    async def upsert_changed(self, documents: list[ProductDocument]) -> list[str]:
        changed = [d for d in documents if self._data.product_documents.get(d.id) != d]
        await self.upsert_many(changed)
        return [d.id for d in changed]

    async def product_by_id(self, product_id: str) -> ProductDocument | None:
        return self._data.product_documents.get(product_id)

    async def versions(self, product_ids: list[str]) -> dict[str, int]:
        return {i: d.version for i, d in (await self.products_by_ids(product_ids)).items()}

    async def products_by_ids(self, product_ids: list[str]) -> dict[str, ProductDocument]:
        documents = self._data.product_documents
        return {i: documents[i] for i in product_ids if i in documents}

    async def list_products(self, query: ProductQuery) -> ProductPage:
        def matches(d: ProductDocument) -> bool:
            price = price_in(d, query.currency)
            return (
                d.status == "active"
                and (query.category_id is None or query.category_id in scopes(d))
                and all(attribute_matches(d.attributes.get(k), v) for k, v in query.attributes.items())
                and (query.min_price is None or (price is not None and price >= query.min_price))
                and (query.max_price is None or (price is not None and price <= query.max_price))
            )

        rows = sorted(
            (d for d in self._data.product_documents.values() if matches(d)),
            key=lambda d: sort_key(d, query), reverse=descending(query),
        )
        if query.cursor:
            after = decode_cursor(query.cursor)
            down = descending(query)
            rows = [d for d in rows if (sort_key(d, query) < after if down else sort_key(d, query) > after)]
        page = rows[: query.limit]
        more = len(rows) > query.limit
        return priced_page(page, query, encode_cursor(sort_key(page[-1], query)) if more and page else None)

    async def product_by_slug(self, slug: str) -> ProductDocument | None:
        for document in self._data.product_documents.values():
            if document.slug == slug:
                return document
        return None
