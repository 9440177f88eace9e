"""The PostgreSQL unit of work: one connection, one transaction, outbox rows written at commit."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.postgres import tables as t
from adapters.postgres.analytics import PostgresAnalyticsStore
from adapters.postgres.catalog import PostgresProductRepository
from adapters.postgres.categories import PostgresCategories, PostgresCategoryView
from adapters.postgres.collections import PostgresCollections, PostgresCollectionView
from adapters.postgres.customers import PostgresCustomers, PostgresPasswordResets
from adapters.postgres.giftcards import PostgresGiftCards
from adapters.postgres.inventory import PostgresStockRepository
from adapters.postgres.merchandising import PostgresMerchandising
from adapters.postgres.orders import PostgresCheckouts, PostgresOrders, PostgresOrderViews
from adapters.postgres.pipeline import Flushing, Pipeline, json_rows
from adapters.postgres.price_lists import PostgresPriceLists
from adapters.postgres.promotions import PostgresPromotions
from adapters.postgres.read_models import PostgresAvailabilityView, PostgresCatalogReadModel
from adapters.postgres.repositories import PostgresStaffTokens, constraint_name
from adapters.postgres.reservations import PostgresReservationRepository
from adapters.postgres.webhooks import PostgresWebhooks
from application.messaging.codec import event_to_builtins
from application.ports.clock import IdGenerator
from domain.shared.errors import Conflict
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
        self._pipeline = pipeline = Pipeline(self._conn)
        conn = Flushing(self._conn, pipeline)  # every repository reads this transaction's staged writes
        self.products = PostgresProductRepository(conn, self._seen)
        self.price_lists = PostgresPriceLists(conn, self._seen)
        self.categories = PostgresCategories(conn, self._seen)
        self.category_view = PostgresCategoryView(conn)
        self.collections = PostgresCollections(conn, self._seen)
        self.collection_view = PostgresCollectionView(conn)
        self.staff_tokens = PostgresStaffTokens(conn)
        self.processed = PostgresProcessedEvents(conn)
        self.catalog_view = PostgresCatalogReadModel(conn)
        self.analytics = PostgresAnalyticsStore(conn)
        self.stock = PostgresStockRepository(conn, self._seen, pipeline)
        self.reservations = PostgresReservationRepository(conn, self._seen, pipeline)
        self.availability_view = PostgresAvailabilityView(conn)
        self.merchandising = PostgresMerchandising(conn)
        self.customers = PostgresCustomers(conn, self._seen)
        self.password_resets = PostgresPasswordResets(conn)
        self.checkouts = PostgresCheckouts(conn, self._seen)
        self.orders = PostgresOrders(conn, self._seen)
        self.order_views = PostgresOrderViews(conn)
        self.gift_cards = PostgresGiftCards(conn, self._seen)
        self.promotions = PostgresPromotions(conn, self._seen)
        self.webhooks = PostgresWebhooks(conn)
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
        self._pipeline.discard()
        try:
            if conn.in_transaction():
                await conn.rollback()
        finally:
            await conn.close()
            self._conn = None

    def record(self, event: DomainEvent) -> None:
        self._recorded.append(event)

    async def commit(self) -> None:
        """Staged writes, outbox rows and COMMIT travel in one round trip."""
        conn = self.connection
        recorded, self._recorded = self._recorded, []
        events = [*(e for aggregate in self._seen for e in aggregate.pull_events()), *recorded]
        if events:
            self._pipeline.stage(_APPEND_OUTBOX, (json_rows([
                {"id": self._ids.new_id(), "topic": e.topic, "aggregate_id": e.aggregate_id,
                 "aggregate_version": e.aggregate_version, "occurred_at": e.occurred_at,
                 "payload": event_to_builtins(e)}
                for e in events
            ]),))
        try:
            await self._pipeline.commit()
        except IntegrityError as error:
            if getattr(error.orig, "sqlstate", None) != "23505":
                raise  # a CHECK refused a write: a bug the domain should have caught, not a conflict
            # A unique index met a row committed meanwhile by someone else (a duplicate checkout
            # reservation from another process): the caller may retry or report the conflict.
            raise Conflict(f"a concurrent change conflicts with this one ({constraint_name(error)})") from error
        await conn.commit()  # nothing left to do on the server: closes SQLAlchemy's transaction
        await conn.begin()

    async def rollback(self) -> None:
        conn = self.connection
        self._pipeline.discard()
        await conn.rollback()
        await conn.begin()


_APPEND_OUTBOX = """
INSERT INTO outbox (id, topic, aggregate_id, aggregate_version, occurred_at, payload)
SELECT id, topic, aggregate_id, aggregate_version, occurred_at, payload
FROM jsonb_to_recordset(%s::jsonb)
    AS o(id text, topic text, aggregate_id text, aggregate_version int, occurred_at timestamptz, payload jsonb)
"""
