"""The composition root: the one place that knows every adapter. Shared by HTTP, worker and CLI."""

from __future__ import annotations

import functools
from datetime import timedelta

from dependency_injector import containers, providers

from adapters.dramatiq.broker import DramatiqPublisher, make_broker
from adapters.dramatiq.tracking import DramatiqTrackingQueue
from adapters.dramatiq.webhooks import DramatiqWebhookQueue
from adapters.http.resolver import SystemResolver
from adapters.http.webhooks import HttpxWebhookSender
from adapters.meilisearch.index import MeilisearchSearchIndex
from adapters.pillow.images import PillowImageCodec
from adapters.postgres.carts import PostgresDurableCarts
from adapters.postgres.engine import make_engine
from adapters.postgres.outbox import PostgresOutboxStore
from adapters.postgres.redelivery import PostgresUnconsumedEvents
from adapters.postgres.shipping import PostgresShippingStore
from adapters.postgres.tax import PostgresRegionalTaxRates
from adapters.postgres.unit_of_work import PostgresUnitOfWork
from adapters.redis.carts import RedisCartCache
from adapters.redis.catalog_version import RedisCatalogVersion
from adapters.redis.client import make_redis
from adapters.redis.rate_limit import RedisRateLimiter
from adapters.redis.sessions import RedisSessionStore
from adapters.redis.stock_gate import RedisStockGate
from adapters.redis.waiting_rooms import RedisWaitingRooms
from adapters.reportlab.documents import ReportlabDocumentRenderer
from adapters.system.addresses import I18nAddressValidator
from adapters.system.clock import SystemClock, UuidIdGenerator
from adapters.system.passwords import Argon2Hasher
from adapters.system.tax import RateTableTax
from adapters.system.vat_rates import european_vat_rates
from application.bootstrap import bootstrap
from application.carts.pricing import Channels
from application.carts.store import LayeredCartStore
from application.catalog.snapshot import CatalogSnapshot, KeptVersion
from application.messaging.redelivery import Redelivery
from application.messaging.relay import OutboxRelay
from application.subscriptions import build_registry
from application.webhooks.targets import WebhookTargets
from domain.tax.rates import SEEDED_US_STATES, RateTable
from entrypoints.factories import (
    catalog_changes,
    make_admissions,
    make_auth_limits,
    make_cdn,
    make_gateways,
    make_idempotency_store,
    make_media_limits,
    make_media_storage,
    make_notifier,
    make_pay_later,
    make_search_index,
    make_shop,
    redis_keys,
)
from entrypoints.settings import Settings, get_settings


def estimate_rates() -> RateTable:
    """The cart page's tax estimate for a channel's own country: the built-in European VAT and the US
    states the shop was seeded with (checkout taxes with the merchant's table as it is then)."""
    return RateTable([*european_vat_rates(), *SEEDED_US_STATES])


def _seconds(value: float) -> timedelta:
    return timedelta(seconds=value)


class Container(containers.DeclarativeContainer):
    settings: providers.Provider[Settings] = providers.Singleton(get_settings)
    s = settings.provided

    clock = providers.Singleton(SystemClock)
    ids = providers.Singleton(UuidIdGenerator)
    engine = providers.Singleton(
        make_engine, s.database_url, pool_size=s.db_pool_size, max_overflow=s.db_max_overflow,
        pool_timeout=s.db_pool_timeout,
    )
    redis = providers.Singleton(make_redis, s.redis_url)
    broker = providers.Singleton(
        make_broker, s.redis_url, namespace=s.broker_namespace, heartbeat_timeout_ms=s.worker_heartbeat_timeout_ms,
        maintenance_chance=s.broker_maintenance_chance,
    )
    catalog_version = providers.Singleton(
        KeptVersion, providers.Singleton(RedisCatalogVersion, redis, key=redis_keys(s, "catalog-version")),
        ttl=s.catalog_version_ttl_seconds,
    )
    uow_factory = providers.Callable(
        functools.partial, PostgresUnitOfWork, engine, ids,
        providers.Callable(catalog_changes, catalog_version),
    )
    catalog = providers.Singleton(CatalogSnapshot, uow_factory, catalog_version)
    cdn = providers.Singleton(make_cdn, settings)
    tracking_queue = providers.Singleton(DramatiqTrackingQueue, broker)
    rate_limiter = providers.Singleton(RedisRateLimiter, redis, prefix=redis_keys(s, "rl:"))
    stock_gate = providers.Singleton(RedisStockGate, redis, prefix=redis_keys(s, "gate:"))
    waiting_rooms = providers.Singleton(RedisWaitingRooms, redis, prefix=redis_keys(s, "room:"))
    cart_store = providers.Singleton(
        LayeredCartStore, providers.Singleton(PostgresDurableCarts, engine),
        providers.Singleton(RedisCartCache, redis, prefix=redis_keys(s, "cart:")), clock,
        guest_ttl=s.guest_cart_ttl_seconds, customer_ttl=s.customer_cart_ttl_seconds,
    )
    sessions = providers.Singleton(RedisSessionStore, redis, prefix=redis_keys(s, "session:"))
    hasher = providers.Singleton(Argon2Hasher, threads=s.password_hash_threads)
    notifier = providers.Singleton(make_notifier, settings, engine, clock)
    webhook_queue = providers.Singleton(DramatiqWebhookQueue, broker)
    webhook_targets = providers.Singleton(
        WebhookTargets, providers.Singleton(SystemResolver), allow_http=s.webhook_allow_http,
        allowed_hosts=s.webhook_allowed_hosts,
    )
    webhook_sender = providers.Singleton(HttpxWebhookSender, webhook_targets, timeout=s.webhook_timeout_seconds)
    channels = providers.Singleton(Channels.parse, s.channels)
    gateways = providers.Singleton(make_gateways, settings)
    search_index = providers.Singleton(make_search_index, settings, engine)
    regional_rates = providers.Singleton(PostgresRegionalTaxRates, engine)
    media_storage = providers.Singleton(make_media_storage, settings)
    images = providers.Singleton(PillowImageCodec, max_pixels=s.media_max_pixels, threads=s.media_threads,
                                 avif=s.media_avif)
    media_limits = providers.Singleton(make_media_limits, settings)
    shop = providers.Singleton(make_shop, settings)
    renderer = providers.Singleton(ReportlabDocumentRenderer, locale=s.shop_locale)
    bus = providers.Singleton(
        bootstrap, uow=uow_factory, clock=clock, ids=ids, gate=stock_gate, cart_store=cart_store, sessions=sessions,
        hasher=hasher, notifier=notifier, limiter=rate_limiter,
        addresses=providers.Singleton(I18nAddressValidator), channels=channels, gateways=gateways,
        shipping_store=providers.Singleton(PostgresShippingStore, engine),
        tax=providers.Singleton(RateTableTax, regional=regional_rates), regional_rates=regional_rates,
        rates=providers.Singleton(estimate_rates),
        search_index=search_index, tracking_queue=tracking_queue, reservation_ttl=s.reservation_ttl_seconds,
        auth_limits=providers.Singleton(make_auth_limits, settings), webhook_targets=webhook_targets,
        pay_later=providers.Singleton(make_pay_later, settings), catalog=catalog,
        stock_status_ttl=s.stock_status_ttl_seconds, catalog_version=catalog_version,
        live_promotions_ttl=s.live_promotions_ttl_seconds, drop_capacity=s.drop_capacity_per_second,
        drop_overbook=s.drop_overbook,
        drop_admission_window=s.drop_admission_window_seconds, drop_hold_ttl=s.drop_hold_seconds,
        rooms=waiting_rooms,
        admissions=providers.Singleton(make_admissions, settings),
        media_storage=media_storage, images=images, media_limits=media_limits, renderer=renderer, shop=shop,
    )
    consumers = providers.Singleton(
        build_registry, cdn=cdn, dispatch=bus.provided.handle, search=search_index, search_language=s.search_language,
        notifier=notifier, webhook_queue=webhook_queue, clock=clock, ids=ids, shop=shop,
    )
    outbox_store = providers.Singleton(PostgresOutboxStore, engine)
    idempotency_store = providers.Singleton(make_idempotency_store, settings, engine, redis)
    publisher = providers.Singleton(DramatiqPublisher, broker)
    relay = providers.Singleton(
        OutboxRelay, outbox_store, publisher, consumers, poll_interval=s.relay_poll_interval,
    )
    redelivery = providers.Singleton(
        Redelivery, providers.Singleton(PostgresUnconsumedEvents, engine), publisher, consumers, clock,
        grace=providers.Callable(_seconds, s.relay_sweep_grace_seconds),
    )


async def close(container: Container) -> None:
    """Close what the container opened; creating an engine or client never connects, so this is safe."""
    await container.outbox_store().close()
    for gateway in container.gateways().values():
        if hasattr(gateway, "aclose"):
            await gateway.aclose()
    await container.webhook_sender().aclose()
    search = container.search_index()
    if isinstance(search, MeilisearchSearchIndex):
        await search.close()
    container.search_index.reset()
    await container.redis().aclose()
    await container.engine().dispose()
    for provider in (container.outbox_store, container.redis, container.engine, container.gateways,
                     container.webhook_sender):
        provider.reset()
