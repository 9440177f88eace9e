"""The PostgreSQL unit of work: one connection, one transaction, outbox rows written at commit."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy import insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.postgres import tables as t
from adapters.postgres.analytics import PostgresAnalyticsStore
from adapters.postgres.catalog import (
    PostgresCategories,
    PostgresCategoryView,
    PostgresCollections,
    PostgresCollectionView,
    PostgresPriceLists,
    PostgresProductRepository,
)
from adapters.postgres.customers import PostgresCustomers, PostgresPasswordResets
from adapters.postgres.giftcards import PostgresGiftCards
from adapters.postgres.inventory import PostgresReservationRepository, PostgresStockRepository
from adapters.postgres.merchandising import PostgresMerchandising
from adapters.postgres.orders import PostgresCheckouts, PostgresOrders, PostgresOrderViews
from adapters.postgres.promotions import PostgresPromotions
from adapters.postgres.read_models import PostgresAvailabilityView, PostgresCatalogReadModel
from adapters.postgres.repositories import PostgresStaffTokens
from adapters.postgres.webhooks import PostgresWebhooks
from application.codec import event_to_builtins
from application.ports.clock import IdGenerator
from domain.shared.events import Aggregate, DomainEvent


class PostgresProcessedEvents:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def mark(self, consumer: str, event_id: str) -> bool:
        # A concurrent duplicate blocks on the primary key until the first commits, then
        # sees the conflict: the handler body runs once however messages race.
        result = await self._conn.execute(
            pg_insert(t.processed_events)
            .values(consumer=consumer, event_id=event_id)
            .on_conflict_do_nothing()
            .returning(t.processed_events.c.event_id)
        )
        return result.first() is not None


class PostgresUnitOfWork:
    def __init__(self, engine: AsyncEngine, ids: IdGenerator) -> None:
        self._engine = engine
        self._ids = ids
        self._conn: AsyncConnection | None = None

    async def __aenter__(self) -> Self:
        self._conn = await self._engine.connect()
        await self._conn.begin()
        self._seen: list[Aggregate] = []
        self._recorded: list[DomainEvent] = []
        self.products = PostgresProductRepository(self._conn, self._seen)
        self.price_lists = PostgresPriceLists(self._conn, self._seen)
        self.categories = PostgresCategories(self._conn, self._seen)
        self.category_view = PostgresCategoryView(self._conn)
        self.collections = PostgresCollections(self._conn, self._seen)
        self.collection_view = PostgresCollectionView(self._conn)
        self.staff_tokens = PostgresStaffTokens(self._conn)
        self.processed = PostgresProcessedEvents(self._conn)
        self.catalog_view = PostgresCatalogReadModel(self._conn)
        self.analytics = PostgresAnalyticsStore(self._conn)
        self.stock = PostgresStockRepository(self._conn, self._seen)
        self.reservations = PostgresReservationRepository(self._conn, self._seen)
        self.availability_view = PostgresAvailabilityView(self._conn)
        self.merchandising = PostgresMerchandising(self._conn)
        self.customers = PostgresCustomers(self._conn, self._seen)
        self.password_resets = PostgresPasswordResets(self._conn)
        self.checkouts = PostgresCheckouts(self._conn, self._seen)
        self.orders = PostgresOrders(self._conn, self._seen)
        self.order_views = PostgresOrderViews(self._conn)
        self.gift_cards = PostgresGiftCards(self._conn, self._seen)
        self.promotions = PostgresPromotions(self._conn, self._seen)
        self.webhooks = PostgresWebhooks(self._conn)
        return self

    @property
    def connection(self) -> AsyncConnection:
        assert self._conn is not None, "unit of work used outside its 'async with' block"
        return self._conn

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn = self.connection
        try:
            if conn.in_transaction():
                await conn.rollback()
        finally:
            await conn.close()
            self._conn = None

    def record(self, event: DomainEvent) -> None:
        self._recorded.append(event)

    async def commit(self) -> None:
        conn = self.connection
        recorded, self._recorded = self._recorded, []
        rows = [
            {
                "id": self._ids.new_id(),
                "topic": event.topic,
                "aggregate_id": event.aggregate_id,
                "aggregate_version": event.aggregate_version,
                "occurred_at": event.occurred_at,
                "payload": event_to_builtins(event),
            }
            for event in [*(e for aggregate in self._seen for e in aggregate.pull_events()), *recorded]
        ]
        if rows:
            await conn.execute(insert(t.outbox), rows)
        await conn.commit()
        await conn.begin()

    async def rollback(self) -> None:
        conn = self.connection
        await conn.rollback()
        await conn.begin()

