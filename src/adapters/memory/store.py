"""A shared in-memory 'database' and the unit of work over it.

The unit of work stages writes on a copy and swaps them in on commit, so a failure before
commit leaves the store as it was — the same all-or-nothing the PostgreSQL adapter gives.
"""

from __future__ import annotations

import copy
from types import TracebackType
from typing import Any, Self

from adapters.memory.analytics import MemoryAnalyticsStore
from adapters.memory.customers import MemoryCustomers, MemoryPasswordResets
from adapters.memory.database import MemoryDatabase
from adapters.memory.giftcards import MemoryGiftCards
from adapters.memory.inventory import MemoryAvailabilityView, MemoryReservationRepository, MemoryStockRepository
from adapters.memory.orders import MemoryCheckouts, MemoryOrders, MemoryOrderViews
from adapters.memory.promotion_store import MemoryPromotions
from adapters.memory.search import MemoryMerchandising
from adapters.memory.webhooks import MemoryWebhooks
from application.catalog.categories import CategoryNode, find, nest
from application.catalog.collections import CollectionEntry
from application.catalog.listing import attribute_matches, decode_cursor, descending, encode_cursor, price_in, sort_key
from application.catalog.read_models import ProductDocument, ProductPage, ProductQuery, summary
from application.messaging.codec import event_to_builtins
from application.ports.outbox import OutboxMessage
from application.staff.ports import StaffToken
from domain.catalog.categories import Category, CategoryTree
from domain.catalog.collections import Collection
from domain.catalog.pricing import PriceList
from domain.catalog.product import DuplicateSku, DuplicateSlug, Product, ProductNotFound
from domain.shared.errors import ConcurrencyConflict, Conflict, NotFound
from domain.shared.events import Aggregate, DomainEvent


class MemoryProductRepository:
    def __init__(self, data: MemoryDatabase, seen: list[Aggregate]) -> None:
        self._data = data
        self._seen = seen

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
        self._data.saved_versions[product.id] = product.version
        self._seen.append(product)

    async def add_many(self, products: list[Product]) -> None:
        for product in products:
            await self.add(product)

    async def get(self, product_id: str) -> Product:
        try:
            product = self._data.products[product_id]
        except KeyError:
            raise ProductNotFound(product_id) from None
        self._seen.append(product)
        return product

    async def save(self, product: Product, *, expected_version: int) -> None:
        stored = self._data.saved_versions.get(product.id, expected_version)
        if stored != expected_version:
            raise ConcurrencyConflict(f"product {product.id} changed meanwhile")
        self._check_unique(product)
        self._data.products[product.id] = product
        self._data.saved_versions[product.id] = product.version

    async def existing_skus(self, skus: list[str]) -> set[str]:
        wanted = set(skus)
        return {v.sku for p in self._data.products.values() for v in p.variants if v.sku in wanted}

    async def product_ids_for_skus(self, skus: list[str]) -> list[str]:
        wanted = set(skus)
        return sorted(p.id for p in self._data.products.values() if any(v.sku in wanted for v in p.variants))

    async def all_ids(self) -> list[str]:
        return sorted(self._data.products)

    async def get_many(self, product_ids: list[str]) -> list[Product]:
        return [self._data.products[i] for i in product_ids if i in self._data.products]


class MemoryPriceLists:
    def __init__(self, data: MemoryDatabase, seen: list[Aggregate]) -> None:
        self._data = data
        self._seen = seen

    async def add(self, price_list: PriceList) -> None:
        for other in self._data.price_lists.values():
            if (other.currency, other.channel) == (price_list.currency, price_list.channel):
                raise Conflict(f"a {price_list.currency} list for channel {price_list.channel} exists")
        self._data.price_lists[price_list.id] = price_list
        self._seen.append(price_list)

    async def get(self, price_list_id: str, *, skus: list[str]) -> PriceList:
        try:
            price_list = self._data.price_lists[price_list_id]
        except KeyError:
            raise NotFound(f"price list {price_list_id}") from None
        self._seen.append(price_list)
        return price_list

    async def save(self, price_list: PriceList, *, expected_version: int) -> None:
        price_list.changed.clear()
        self._data.price_lists[price_list.id] = price_list

    async def default_for(self, currency: str) -> PriceList | None:
        for price_list in self._data.price_lists.values():
            if price_list.currency == currency and price_list.channel is None:
                self._seen.append(price_list)
                return price_list
        return None

    async def for_skus(self, skus: list[str]) -> list[PriceList]:
        # The fake keeps whole lists; the contract allows extra prices beyond ``skus``.
        return sorted(self._data.price_lists.values(), key=lambda p: p.id)


class MemoryStaffTokens:
    def __init__(self, data: MemoryDatabase) -> None:
        self._data = data

    async def add(self, token: StaffToken) -> None:
        self._data.staff_tokens[token.token_hash] = token

    async def by_hash(self, token_hash: str) -> StaffToken | None:
        return self._data.staff_tokens.get(token_hash)


class MemoryProcessedEvents:
    def __init__(self, data: MemoryDatabase) -> None:
        self._data = data

    async def mark(self, consumer: str, event_id: str) -> bool:
        key = (consumer, event_id)
        if key in self._data.processed:
            return False
        self._data.processed.add(key)
        return True


class MemoryCatalogReadModel:
    def __init__(self, data: MemoryDatabase) -> None:
        self._data = data

    async def lock_product(self, product_id: str) -> None:
        return None  # one unit of work at a time touches the fake

    async def upsert_product(self, document: ProductDocument) -> bool:
        self._data.product_documents[document.id] = document
        return True

    async def upsert_many(self, documents: list[ProductDocument]) -> None:
        for document in documents:
            self._data.product_documents[document.id] = document

    async def product_by_id(self, product_id: str) -> ProductDocument | None:
        return self._data.product_documents.get(product_id)

    async def list_products(self, query: ProductQuery) -> ProductPage:
        def matches(d: ProductDocument) -> bool:
            price = price_in(d, query.currency)
            return (
                d.status == "active"
                and (query.category_id is None or query.category_id in d.category_ids)
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
        return ProductPage(
            items=[summary(d) for d in page],
            next_cursor=encode_cursor(sort_key(page[-1], query)) if more and page else None,
        )

    async def product_by_slug(self, slug: str) -> ProductDocument | None:
        for document in self._data.product_documents.values():
            if document.slug == slug:
                return document
        return None


class MemoryUnitOfWork:
    def __init__(self, database: MemoryDatabase, ids: Any) -> None:
        self._committed = database
        self._ids = ids
        self.committed = False

    async def __aenter__(self) -> Self:
        self._work = copy.deepcopy(self._committed)
        self._seen: list[Aggregate] = []
        self._recorded: list[DomainEvent] = []
        self.products = MemoryProductRepository(self._work, self._seen)
        self.price_lists = MemoryPriceLists(self._work, self._seen)
        self.categories = MemoryCategories(self._work, self._seen)
        self.category_view = MemoryCategoryView(self._work)
        self.collections = MemoryCollections(self._work, self._seen)
        self.collection_view = MemoryCollectionView(self._work)
        self.staff_tokens = MemoryStaffTokens(self._work)
        self.processed = MemoryProcessedEvents(self._work)
        self.catalog_view = MemoryCatalogReadModel(self._work)
        self.analytics = MemoryAnalyticsStore(self._work)
        self.stock = MemoryStockRepository(self._work.inventory, self._seen)
        self.reservations = MemoryReservationRepository(self._work.inventory, self._seen)
        self.availability_view = MemoryAvailabilityView(self._work)
        self.merchandising = MemoryMerchandising(self._work)
        self.customers = MemoryCustomers(self._work.extra, self._seen)
        self.password_resets = MemoryPasswordResets(self._work.extra)
        self.checkouts = MemoryCheckouts(self._work.extra, self._seen)
        self.orders = MemoryOrders(self._work.extra, self._seen)
        self.order_views = MemoryOrderViews(self._work.extra)
        self.gift_cards = MemoryGiftCards(self._work.extra, self._seen)
        self.promotions = MemoryPromotions(self._work.extra, self._seen)
        self.webhooks = MemoryWebhooks(self._work.extra)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._work = copy.deepcopy(self._committed)

    def record(self, event: DomainEvent) -> None:
        self._recorded.append(event)

    async def commit(self) -> None:
        recorded, self._recorded = self._recorded, []
        for aggregate in self._seen:
            for event in aggregate.pull_events():
                self._work.outbox_seq += 1
                self._work.outbox.append(
                    OutboxMessage(
                        id=self._ids.new_id(), topic=event.topic,
                        aggregate_id=event.aggregate_id,
                        aggregate_version=event.aggregate_version,
                        occurred_at=event.occurred_at, payload=event_to_builtins(event),
                    )
                )
        for event in recorded:
            self._work.outbox.append(
                OutboxMessage(
                    id=self._ids.new_id(), topic=event.topic, aggregate_id=event.aggregate_id,
                    aggregate_version=event.aggregate_version, occurred_at=event.occurred_at,
                    payload=event_to_builtins(event),
                )
            )
        self._committed.__dict__.update(copy.deepcopy(self._work).__dict__)
        self.committed = True

    async def rollback(self) -> None:
        self._work = copy.deepcopy(self._committed)


class MemoryCategories:
    def __init__(self, data: MemoryDatabase, seen: list[Aggregate]) -> None:
        self._data = data
        self._seen = seen

    async def tree(self) -> CategoryTree:
        stored = self._data.extra.get("category_tree")
        tree = CategoryTree(list(stored[1]), version=stored[0]) if stored else CategoryTree()
        self._seen.append(tree)
        return tree

    async def save(self, tree: CategoryTree, *, expected_version: int) -> None:
        self._data.extra["category_tree"] = (tree.version, list(tree.nodes.values()))


class MemoryCategoryView:
    def __init__(self, data: MemoryDatabase) -> None:
        self._data = data

    async def replace(self, categories: list[Category], version: int) -> bool:
        current = self._data.extra.get("category_view")
        if current is not None and current[0] >= version:
            return False
        self._data.extra["category_view"] = (version, categories)
        return True

    async def nodes(self) -> list[CategoryNode]:
        current = self._data.extra.get("category_view")
        return nest(current[1]) if current else []

    async def by_slug(self, slug: str) -> CategoryNode | None:
        return find(await self.nodes(), slug)


class MemoryCollections:
    def __init__(self, data: MemoryDatabase, seen: list[Aggregate]) -> None:
        self._items: dict[str, Collection] = data.extra.setdefault("collections", {})
        self._seen = seen

    async def add(self, collection: Collection) -> None:
        if any(c.slug == collection.slug for c in self._items.values()):
            raise Conflict(f"a collection is already at {collection.slug!r}")
        self._items[collection.id] = collection
        self._seen.append(collection)

    async def get(self, collection_id: str) -> Collection:
        try:
            collection = self._items[collection_id]
        except KeyError:
            raise NotFound(f"collection {collection_id}") from None
        self._seen.append(collection)
        return collection

    async def save(self, collection: Collection, *, expected_version: int) -> None:
        self._items[collection.id] = collection


class MemoryCollectionView:
    def __init__(self, data: MemoryDatabase) -> None:
        self._entries: dict[str, CollectionEntry] = data.extra.setdefault("collection_view", {})

    async def upsert(self, entry: CollectionEntry) -> bool:
        current = self._entries.get(entry.id)
        if current is not None and current.version >= entry.version:
            return False
        self._entries[entry.id] = entry
        return True

    async def by_slug(self, slug: str) -> CollectionEntry | None:
        return next((e for e in self._entries.values() if e.slug == slug), None)
