"""The unit of work over the shared in-memory 'database' (``MemoryDatabase``, re-exported here).

The unit of work stages writes on a copy and swaps them in on commit, so a failure before
commit leaves the store as it was — the same all-or-nothing the PostgreSQL adapter gives.
The catalog fakes are in ``catalog``, ``categories`` and ``collections``.
"""

from __future__ import annotations

import copy
import dataclasses
from datetime import datetime
from types import TracebackType
from typing import Any, Self

from adapters.memory.analytics import MemoryAnalyticsStore
from adapters.memory.carts import MemoryCartWrites
from adapters.memory.catalog import MemoryCatalogReadModel, MemoryPriceLists, MemoryProductRepository
from adapters.memory.categories import MemoryCategories, MemoryCategoryView
from adapters.memory.collections import MemoryCollections, MemoryCollectionView
from adapters.memory.customers import MemoryCustomers, MemoryPasswordResets
from adapters.memory.database import MemoryDatabase
from adapters.memory.drops import MemoryDrops, MemoryTickets
from adapters.memory.giftcards import MemoryGiftCards
from adapters.memory.inventory import (
    MemoryAvailabilityView,
    MemoryBuyerHoldings,
    MemoryReservationRepository,
    MemoryStockRepository,
)
from adapters.memory.invoices import MemoryInvoices
from adapters.memory.media import MemoryGalleries
from adapters.memory.orders import MemoryCheckouts, MemoryOrders, MemoryOrderViews
from adapters.memory.product_types import MemoryProductTypes
from adapters.memory.promotion_store import MemoryPromotions
from adapters.memory.search import MemoryMerchandising
from adapters.memory.versions import MemoryVersions
from adapters.memory.webhooks import MemoryWebhooks
from application.messaging.codec import event_to_builtins
from application.ports.outbox import OutboxMessage
from application.staff.ports import StaffToken
from domain.shared.events import Aggregate, DomainEvent

__all__ = ["MemoryDatabase", "MemoryProcessedEvents", "MemoryStaffTokens", "MemoryUnitOfWork"]


class MemoryStaffTokens:
    def __init__(self, data: MemoryDatabase) -> None:
        self._data = data

    async def add(self, token: StaffToken) -> None:
        self._data.staff_tokens[token.token_hash] = token

    async def by_hash(self, token_hash: str) -> StaffToken | None:
        token = self._data.staff_tokens.get(token_hash)
        return token if token is not None and token.revoked_at is None else None

    async def all(self) -> list[StaffToken]:
        return sorted(self._data.staff_tokens.values(), key=lambda token: (token.created_at, token.id))

    async def revoke(self, token_id: str, at: datetime) -> bool:
        for key, token in self._data.staff_tokens.items():
            if token.id == token_id and token.revoked_at is None:
                self._data.staff_tokens[key] = dataclasses.replace(token, revoked_at=at)
                return True
        return False


class MemoryProcessedEvents:
    def __init__(self, data: MemoryDatabase) -> None:
        self._data = data

    async def mark(self, consumer: str, event_id: str) -> bool:
        key = (consumer, event_id)
        if key in self._data.processed:
            return False
        self._data.processed.add(key)
        return True

    async def mark_many(self, consumer: str, event_ids: list[str]) -> set[str]:
        return {event_id for event_id in dict.fromkeys(event_ids) if await self.mark(consumer, event_id)}


class MemoryUnitOfWork:
    def __init__(self, database: MemoryDatabase, ids: Any) -> None:
        self.database = database  # its ``carts`` are what a MemoryDurableCarts shares with this unit of work
        self._committed = database
        self._ids = ids
        self.committed = False

    async def __aenter__(self) -> Self:
        self._work = copy.deepcopy(self._committed)
        self._seen: list[Aggregate] = []
        self._recorded: list[DomainEvent] = []
        self._versions = versions = MemoryVersions(self._committed)
        self.products = MemoryProductRepository(self._work, self._seen, versions)
        self.price_lists = MemoryPriceLists(self._work, self._seen, versions)
        self.categories = MemoryCategories(self._work, self._seen, versions)
        self.product_types = MemoryProductTypes(self._work, self._seen, versions)
        self.category_view = MemoryCategoryView(self._work)
        self.collections = MemoryCollections(self._work, self._seen, versions)
        self.collection_view = MemoryCollectionView(self._work)
        self.galleries = MemoryGalleries(self._work, self._seen, versions)
        self.staff_tokens = MemoryStaffTokens(self._work)
        self.processed = MemoryProcessedEvents(self._work)
        self.catalog_view = MemoryCatalogReadModel(self._work)
        self.analytics = MemoryAnalyticsStore(self._work)
        self.stock = MemoryStockRepository(self._work.inventory, self._seen)
        self.reservations = MemoryReservationRepository(self._work.inventory, self._seen)
        self.holdings = MemoryBuyerHoldings(self._work.inventory)
        self.availability_view = MemoryAvailabilityView(self._work)
        self.merchandising = MemoryMerchandising(self._work)
        self.customers = MemoryCustomers(self._work.extra, self._seen, versions)
        self.password_resets = MemoryPasswordResets(self._work.extra)
        self.checkouts = MemoryCheckouts(self._work.extra, self._seen, versions)
        self.carts = MemoryCartWrites(self._work.carts)
        self.orders = MemoryOrders(self._work.extra, self._seen, versions)
        self.order_views = MemoryOrderViews(self._work.extra)
        self.gift_cards = MemoryGiftCards(self._work.extra, self._seen, versions)
        self.drops = MemoryDrops(self._work.extra, self._seen, versions)
        self.tickets = MemoryTickets(self._work.extra)
        self.promotions = MemoryPromotions(self._work.extra, self._seen, versions)
        self.webhooks = MemoryWebhooks(self._work.extra)
        self.invoices = MemoryInvoices(self._committed.invoicing)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._work = copy.deepcopy(self._committed)
        self.invoices.discard()

    def record(self, event: DomainEvent) -> None:
        self._recorded.append(event)

    async def commit(self) -> None:
        carts = self.carts.staged()  # a cart saved since it was read refuses the whole commit
        self.invoices.check()
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
        self.invoices.apply()
        self.carts.write(carts)
        self._versions.rebase()
        self.committed = True

    async def rollback(self) -> None:
        self._work = copy.deepcopy(self._committed)
        self.carts = MemoryCartWrites(self._work.carts)
        self.invoices.discard()
