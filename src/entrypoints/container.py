"""The composition root: the one place that knows every adapter. Shared by HTTP, worker and CLI."""

from __future__ import annotations

import functools
from typing import Any

from dependency_injector import containers, providers

from adapters.dramatiq.broker import DramatiqPublisher, make_broker
from adapters.dramatiq.tracking import DramatiqTrackingQueue
from adapters.http.cdn import HttpCdnPurger, LoggingCdnPurger
from adapters.meilisearch.index import MeilisearchSearchIndex
from adapters.memory.analytics import InlineTrackingQueue
from adapters.memory.inventory import MemoryStockGate
from adapters.memory.search import MemorySearchIndex
from adapters.postgres.engine import make_engine
from adapters.postgres.outbox import PostgresOutboxStore
from adapters.postgres.search import PostgresSearchIndex
from adapters.postgres.unit_of_work import PostgresUnitOfWork
from adapters.redis.client import make_redis
from adapters.redis.rate_limit import RedisRateLimiter
from adapters.redis.stock_gate import RedisStockGate
from adapters.system.clock import SystemClock, UuidIdGenerator
from application.analytics import handlers as analytics
from application.catalog import categories, collections
from application.catalog import commands as cat
from application.catalog import handlers as catalog
from application.inventory import commands as inv
from application.inventory import handlers as inventory
from application.inventory.batching import ReservationBatcher
from application.inventory.gate_cache import SoldOutMemory
from application.messagebus import MessageBus
from application.relay import OutboxRelay
from application.search import merchandising as merch
from application.staff import handlers as staff
from application.subscriptions import build_registry
from entrypoints.settings import Settings, get_settings


def build_bus(
    uow: Any, clock: Any, ids: Any, tracking_queue: Any = None, gate: Any = None, reservation_ttl: int = 600,
    search_index: Any = None,
) -> MessageBus:
    """Bind every command to its handler and the handler's dependencies."""
    deps = {"uow": uow, "clock": clock, "ids": ids}
    search_index = search_index or MemorySearchIndex()
    tracking_queue = tracking_queue or InlineTrackingQueue(uow)
    gate = SoldOutMemory(gate or MemoryStockGate())
    stock = {"uow": uow, "gate": gate, "clock": clock}
    return MessageBus(
        {
            inv.AddLocation: functools.partial(inventory.add_location, uow=uow),
            inv.SetSkuPolicy: functools.partial(inventory.set_sku_policy, uow=uow, gate=gate),
            inv.ReceiveStock: functools.partial(inventory.receive_stock, **stock),
            inv.AdjustStock: functools.partial(inventory.adjust_stock, **stock),
            inv.TransferStock: functools.partial(inventory.transfer_stock, **stock, ids=ids),
            inv.ReserveStock: functools.partial(
                inventory.reserve_stock, gate=gate, uow=uow, default_ttl=reservation_ttl,
                batcher=ReservationBatcher(uow, clock, ids),
            ),
            inv.ExtendReservation: functools.partial(inventory.extend_reservation, uow=uow, clock=clock),
            inv.CommitReservation: functools.partial(inventory.commit_reservation, uow=uow, clock=clock),
            inv.ReleaseReservation: functools.partial(inventory.release_reservation, **stock),
            inv.Reconcile: functools.partial(inventory.reconcile, **stock, ids=ids),
            cat.CreateProduct: functools.partial(catalog.create_product, **deps),
            cat.UpdateProduct: functools.partial(catalog.update_product, uow=uow, clock=clock),
            cat.AddVariant: functools.partial(catalog.add_variant, uow=uow, clock=clock),
            cat.UpdateVariant: functools.partial(catalog.update_variant, uow=uow, clock=clock),
            cat.AddOptionValue: functools.partial(catalog.add_option_value, uow=uow, clock=clock),
            cat.CreatePriceList: functools.partial(catalog.create_price_list, uow=uow, ids=ids),
            cat.SetPrices: functools.partial(catalog.set_prices, uow=uow, clock=clock),
            categories.AddCategory: functools.partial(categories.add_category, **deps),
            categories.MoveCategory: functools.partial(categories.move_category, uow=uow, clock=clock),
            collections.CreateCollection: functools.partial(collections.create_collection, **deps),
            collections.ArrangeCollection: functools.partial(collections.arrange_collection, uow=uow, clock=clock),
            staff.IssueStaffToken: functools.partial(staff.issue_staff_token, **deps),
            analytics.TrackEvents: functools.partial(analytics.track_events, queue=tracking_queue, clock=clock),
            merch.AddSynonymGroup: functools.partial(merch.add_synonym_group, uow=uow, ids=ids, index=search_index),
            merch.RemoveSynonymGroup: functools.partial(merch.remove_synonym_group, uow=uow, index=search_index),
            merch.AddRule: functools.partial(merch.add_rule, uow=uow, ids=ids),
            merch.RemoveRule: functools.partial(merch.remove_rule, uow=uow),
            merch.AddRedirect: functools.partial(merch.add_redirect, uow=uow, ids=ids),
            merch.RemoveRedirect: functools.partial(merch.remove_redirect, uow=uow),
        }
    )


class Container(containers.DeclarativeContainer):
    settings: providers.Provider[Settings] = providers.Singleton(get_settings)

    clock = providers.Singleton(SystemClock)
    ids = providers.Singleton(UuidIdGenerator)

    engine = providers.Singleton(
        lambda s: make_engine(
            s.database_url, pool_size=s.db_pool_size, max_overflow=s.db_max_overflow,
            pool_timeout=s.db_pool_timeout,
        ),
        settings,
    )
    redis = providers.Singleton(lambda s: make_redis(s.redis_url), settings)
    broker = providers.Singleton(
        lambda s: make_broker(
            s.redis_url, namespace=s.broker_namespace,
            heartbeat_timeout_ms=s.worker_heartbeat_timeout_ms,
            maintenance_chance=s.broker_maintenance_chance,
        ),
        settings,
    )

    uow_factory = providers.Callable(lambda e, i: functools.partial(PostgresUnitOfWork, e, i), engine, ids)
    cdn = providers.Singleton(
        lambda s: HttpCdnPurger(s.cdn_purge_url, token=s.cdn_purge_token) if s.cdn_purge_url else LoggingCdnPurger(),
        settings,
    )
    search_index = providers.Singleton(
        lambda s, engine: MeilisearchSearchIndex(s.meilisearch_url, api_key=s.meilisearch_key,
                                                 index=s.meilisearch_index)
        if s.search_backend == "meilisearch" else PostgresSearchIndex(engine),
        settings, engine,
    )
    consumers = providers.Singleton(
        lambda cdn, search, s: build_registry(cdn=cdn, search=search, search_language=s.search_language),
        cdn, search_index, settings,
    )
    tracking_queue = providers.Singleton(DramatiqTrackingQueue, broker)
    rate_limiter = providers.Singleton(RedisRateLimiter, redis)
    stock_gate = providers.Singleton(RedisStockGate, redis)
    bus = providers.Singleton(
        lambda uow, clock, ids, queue, gate, s, search: build_bus(
            uow=uow, clock=clock, ids=ids, tracking_queue=queue, gate=gate, reservation_ttl=s.reservation_ttl_seconds,
            search_index=search,
        ),
        uow_factory, clock, ids, tracking_queue, stock_gate, settings, search_index,
    )

    outbox_store = providers.Singleton(PostgresOutboxStore, engine)
    publisher = providers.Singleton(DramatiqPublisher, broker)
    relay = providers.Singleton(
        lambda store, pub, reg, s: OutboxRelay(store, pub, reg, poll_interval=s.relay_poll_interval),
        outbox_store, publisher, consumers, settings,
    )


async def close(container: Container) -> None:
    """Close what the container opened; creating an engine or client never connects, so this is safe."""
    await container.outbox_store().close()
    search = container.search_index()
    if isinstance(search, MeilisearchSearchIndex):
        await search.close()
    container.search_index.reset()
    await container.redis().aclose()
    await container.engine().dispose()
    for provider in (container.outbox_store, container.redis, container.engine):
        provider.reset()
