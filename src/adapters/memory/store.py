"""A shared in-memory 'database' and the unit of work over it.

The unit of work stages writes on a copy and swaps them in on commit, so a failure before
commit leaves the store as it was — the same all-or-nothing the PostgreSQL adapter gives.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any, Self

from adapters.memory.inventory import InventoryData
from application.catalog.read_models import ProductDocument
from application.codec import event_to_builtins
from application.ports.outbox import OutboxMessage
from application.staff.ports import StaffToken
from domain.catalog.product import DuplicateSku, DuplicateSlug, Product, ProductNotFound
from domain.shared.events import Aggregate


@dataclass
class MemoryDatabase:
    """Everything the fakes persist, in plain dicts."""

    products: dict[str, Product] = field(default_factory=dict)
    staff_tokens: dict[str, StaffToken] = field(default_factory=dict)
    outbox: list[OutboxMessage] = field(default_factory=list)
    published: dict[str, datetime] = field(default_factory=dict)  # message id -> when it was published
    processed: set[tuple[str, str]] = field(default_factory=set)
    product_documents: dict[str, ProductDocument] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    inventory: InventoryData = field(default_factory=InventoryData)
    outbox_seq: int = 0


class MemoryProductRepository:
    def __init__(self, data: MemoryDatabase, seen: list[Aggregate]) -> None:
        self._data = data
        self._seen = seen

    async def add(self, product: Product) -> None:
        for other in self._data.products.values():
            if other.sku == product.sku:
                raise DuplicateSku(f"SKU {product.sku} exists")
            if other.slug == product.slug:
                raise DuplicateSlug(f"slug {product.slug} exists")
        self._data.products[product.id] = product
        self._seen.append(product)

    async def get(self, product_id: str) -> Product:
        try:
            product = self._data.products[product_id]
        except KeyError:
            raise ProductNotFound(product_id) from None
        self._seen.append(product)
        return product


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

    async def upsert_product(self, document: ProductDocument) -> bool:
        current = self._data.product_documents.get(document.id)
        if current is not None and current.version >= document.version:
            return False
        self._data.product_documents[document.id] = document
        return True

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
        from adapters.memory.analytics import MemoryAnalyticsStore
        from adapters.memory.inventory import MemoryAvailabilityView, MemoryReservationRepository, MemoryStockRepository

        self._work = copy.deepcopy(self._committed)
        self._seen: list[Aggregate] = []
        self.products = MemoryProductRepository(self._work, self._seen)
        self.staff_tokens = MemoryStaffTokens(self._work)
        self.processed = MemoryProcessedEvents(self._work)
        self.catalog_view = MemoryCatalogReadModel(self._work)
        self.analytics = MemoryAnalyticsStore(self._work)
        self.stock = MemoryStockRepository(self._work.inventory, self._seen)
        self.reservations = MemoryReservationRepository(self._work.inventory, self._seen)
        self.availability_view = MemoryAvailabilityView(self._work)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._work = copy.deepcopy(self._committed)

    async def commit(self) -> None:
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
        self._committed.__dict__.update(copy.deepcopy(self._work).__dict__)
        self.committed = True

    async def rollback(self) -> None:
        self._work = copy.deepcopy(self._committed)
