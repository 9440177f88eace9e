"""The PostgreSQL unit of work: one connection, one transaction, outbox rows written at commit."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, Generic, Self, TypeVar, cast, overload

import psycopg
from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.postgres import tables as t
from adapters.postgres.analytics import PostgresAnalyticsStore
from adapters.postgres.carts import PostgresCartWrites
from adapters.postgres.catalog import PostgresProductRepository
from adapters.postgres.categories import PostgresCategories, PostgresCategoryView
from adapters.postgres.collections import PostgresCollections, PostgresCollectionView
from adapters.postgres.customers import PostgresCustomers, PostgresPasswordResets
from adapters.postgres.drops import PostgresDrops, PostgresTickets
from adapters.postgres.engine import autocommit_driver, end_transaction, give_back
from adapters.postgres.giftcards import PostgresGiftCards
from adapters.postgres.inventory import PostgresStockRepository
from adapters.postgres.invoices import PostgresInvoices
from adapters.postgres.media import PostgresGalleries
from adapters.postgres.merchandising import PostgresMerchandising
from adapters.postgres.orders import PostgresCheckouts, PostgresOrders, PostgresOrderViews
from adapters.postgres.pipeline import Flushing, Pipeline, json_rows
from adapters.postgres.price_lists import PostgresPriceLists
from adapters.postgres.product_types import PostgresProductTypes
from adapters.postgres.promotions import PostgresPromotions
from adapters.postgres.read_models import PostgresAvailabilityView, PostgresCatalogReadModel
from adapters.postgres.repositories import PostgresStaffTokens, constraint_name
from adapters.postgres.reservations import PostgresBuyerHoldings, PostgresReservationRepository
from adapters.postgres.webhooks import PostgresWebhooks
from application.messaging.codec import event_to_builtins
from application.ports.clock import IdGenerator
from domain.shared.errors import Conflict
from domain.shared.events import Aggregate, DomainEvent

R = TypeVar("R")


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

    async def mark_many(self, consumer: str, event_ids: list[str]) -> set[str]:
        # One statement for a burst; the ids in sorted order, so two bursts that share some take
        # their rows' locks in the same order (one waits for the other, they never deadlock).
        result = await self._conn.execute(
            text(
                "INSERT INTO processed_events (consumer, event_id) "
                "SELECT :consumer, id FROM unnest(CAST(:ids AS text[])) AS id "
                "ON CONFLICT DO NOTHING RETURNING event_id"
            ),
            {"consumer": consumer, "ids": sorted(set(event_ids))},
        )
        return {row[0] for row in result}


class _Repository(Generic[R]):
    """A repository of the unit of work, built the first time a use case touches it in a transaction."""

    def __init__(self, build: Callable[[PostgresUnitOfWork], R]) -> None:
        self._build = build

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    @overload
    def __get__(self, uow: None, owner: type) -> Self: ...

    @overload
    def __get__(self, uow: PostgresUnitOfWork, owner: type) -> R: ...

    def __get__(self, uow: PostgresUnitOfWork | None, owner: type) -> R | Self:
        if uow is None:
            return self
        built = uow._repositories
        if self._name not in built:
            built[self._name] = self._build(uow)
        return cast(R, built[self._name])


class PostgresUnitOfWork:
    products = _Repository(lambda u: PostgresProductRepository(u._flushing, u._seen))
    price_lists = _Repository(lambda u: PostgresPriceLists(u._flushing, u._seen))
    categories = _Repository(lambda u: PostgresCategories(u._flushing, u._seen))
    product_types = _Repository(lambda u: PostgresProductTypes(u._flushing, u._seen))
    category_view = _Repository(lambda u: PostgresCategoryView(u._flushing))
    collections = _Repository(lambda u: PostgresCollections(u._flushing, u._seen))
    collection_view = _Repository(lambda u: PostgresCollectionView(u._flushing))
    galleries = _Repository(lambda u: PostgresGalleries(u._flushing, u._seen))
    staff_tokens = _Repository(lambda u: PostgresStaffTokens(u._flushing))
    processed = _Repository(lambda u: PostgresProcessedEvents(u._flushing))
    catalog_view = _Repository(lambda u: PostgresCatalogReadModel(u._flushing))
    analytics = _Repository(lambda u: PostgresAnalyticsStore(u._flushing))
    stock = _Repository(lambda u: PostgresStockRepository(u._flushing, u._seen, u._pipeline))
    reservations = _Repository(lambda u: PostgresReservationRepository(u._flushing, u._seen, u._pipeline))
    holdings = _Repository(lambda u: PostgresBuyerHoldings(u._flushing, u._pipeline))
    availability_view = _Repository(lambda u: PostgresAvailabilityView(u._flushing, u._pipeline))
    merchandising = _Repository(lambda u: PostgresMerchandising(u._flushing))
    customers = _Repository(lambda u: PostgresCustomers(u._flushing, u._seen))
    password_resets = _Repository(lambda u: PostgresPasswordResets(u._flushing))
    checkouts = _Repository(lambda u: PostgresCheckouts(u._flushing, u._seen, u._pipeline))
    carts = _Repository(lambda u: PostgresCartWrites(u._pipeline))
    orders = _Repository(lambda u: PostgresOrders(u._flushing, u._seen, u._pipeline))
    order_views = _Repository(lambda u: PostgresOrderViews(u._flushing))
    gift_cards = _Repository(lambda u: PostgresGiftCards(u._flushing, u._seen))
    drops = _Repository(lambda u: PostgresDrops(u._flushing, u._seen))
    tickets = _Repository(lambda u: PostgresTickets(u._flushing, u._pipeline))
    promotions = _Repository(lambda u: PostgresPromotions(u._flushing, u._seen))
    webhooks = _Repository(lambda u: PostgresWebhooks(u._flushing))
    invoices = _Repository(lambda u: PostgresInvoices(u._flushing, u._pipeline))

    def __init__(self, engine: AsyncEngine, ids: IdGenerator,
                 committed: Callable[[list[str]], Awaitable[None]] | None = None) -> None:
        """``committed`` hears the topics of the events each commit wrote (after the commit): the
        catalog version is bumped that way, with no wait on the outbox."""
        self._engine = engine
        self._ids = ids
        self._committed = committed
        self._conn: AsyncConnection | None = None
        self._driver: psycopg.AsyncConnection[Any]
        self._seen: list[Aggregate] = []
        self._recorded: list[DomainEvent] = []
        self._repositories: dict[str, object] = {}
        self._pipeline: Pipeline
        self._flushing: AsyncConnection  # a Flushing proxy: repositories see this transaction's staged writes

    async def __aenter__(self) -> Self:
        # Reads run outside any transaction (READ COMMITTED gives each statement its own snapshot
        # either way); the pipeline opens the transaction before the first write or lock. A unit of
        # work that only reads then costs no BEGIN and no ROLLBACK.
        self._conn = conn = await self._engine.connect()
        self._driver = driver = await autocommit_driver(conn)
        self._seen = []
        self._recorded = []
        self._pipeline = pipeline = Pipeline(conn, lazy=True, driver=driver)
        self._flushing = cast(AsyncConnection, Flushing(conn, pipeline))
        self._repositories = {}
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
            await give_back(conn, self._driver)
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
        if conn.in_transaction():
            await conn.commit()  # nothing left to do on the server: closes SQLAlchemy's transaction
        await self._pipeline.ended()
        if events and self._committed is not None:
            await self._committed([e.topic for e in events])

    async def rollback(self) -> None:
        self._pipeline.discard()
        await end_transaction(self.connection, self._driver)
        await self._pipeline.ended()


_APPEND_OUTBOX = """
INSERT INTO outbox (id, topic, aggregate_id, aggregate_version, occurred_at, payload)
SELECT id, topic, aggregate_id, aggregate_version, occurred_at, payload
FROM jsonb_to_recordset(%s::jsonb)
    AS o(id text, topic text, aggregate_id text, aggregate_version int, occurred_at timestamptz, payload jsonb)
"""
