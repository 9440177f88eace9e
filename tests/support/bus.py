"""The application's bus over fakes: every adapter the caller does not give is the in-memory one."""

from __future__ import annotations

from typing import Any

from adapters.memory.analytics import InlineTrackingQueue
from adapters.memory.carts import MemoryCartCache, MemoryDurableCarts
from adapters.memory.customers import MemorySessionStore
from adapters.memory.inventory import MemoryStockGate
from adapters.memory.media import MemoryMediaStorage
from adapters.memory.rate_limit import MemoryRateLimiter
from adapters.memory.resolver import StaticResolver
from adapters.memory.search import MemorySearchIndex
from adapters.memory.shipping import MemoryShippingStore
from adapters.memory.tax import MemoryRegionalTaxRates
from adapters.memory.waiting_rooms import MemoryWaitingRooms
from adapters.pillow.images import PillowImageCodec
from adapters.reportlab.documents import ReportlabDocumentRenderer
from adapters.smtp.logging import LoggingNotifier
from adapters.system.addresses import I18nAddressValidator
from adapters.system.manual_payments import ManualPaymentGateway
from adapters.system.passwords import Argon2Hasher
from adapters.system.tax import RateTableTax
from adapters.system.vat_rates import european_vat_rates
from application.bootstrap import bootstrap
from application.carts.pricing import Channels
from application.carts.store import LayeredCartStore
from application.messaging.bus import MessageBus
from application.webhooks.targets import WebhookTargets
from domain.tax.rates import SEEDED_US_STATES, RateTable


def database_of(uow: Any) -> Any:
    """The memory database behind a unit-of-work factory, if it is one: the durable carts share its rows
    (an order retires its cart in its own unit of work). A test on PostgreSQL that places orders gives
    the PostgreSQL cart store."""
    return getattr(uow(), "database", None)


def build_bus(
    uow: Any, clock: Any, ids: Any, tracking_queue: Any = None, gate: Any = None, reservation_ttl: int = 600,
    *, cart_store: Any = None, promotions: Any = None, sessions: Any = None, hasher: Any = None,
    notifier: Any = None, limiter: Any = None, addresses: Any = None, channels: Channels | None = None,
    gateways: dict[str, Any] | None = None, shipping: Any = None, tax: Any = None, search_index: Any = None,
    webhook_targets: Any = None, auth_limits: Any = None, pay_later: Any = None, rooms: Any = None,
    admissions: Any = None, regional_rates: Any = None, shipping_store: Any = None, catalog_version: Any = None,
    media_storage: Any = None, images: Any = None, media_limits: Any = None, renderer: Any = None, shop: Any = None,
    drop_hold_ttl: int = 120,
) -> MessageBus:
    regional_rates = regional_rates or MemoryRegionalTaxRates()
    return bootstrap(
        uow=uow, clock=clock, ids=ids, reservation_ttl=reservation_ttl, drop_hold_ttl=drop_hold_ttl,
        promotions=promotions,
        tracking_queue=tracking_queue or InlineTrackingQueue(uow),
        gate=gate or MemoryStockGate(),
        cart_store=cart_store or LayeredCartStore(MemoryDurableCarts(database_of(uow)), MemoryCartCache(), clock),
        sessions=sessions or MemorySessionStore(),
        hasher=hasher or Argon2Hasher(),
        notifier=notifier or LoggingNotifier(),
        limiter=limiter or MemoryRateLimiter(clock.now),
        addresses=addresses or I18nAddressValidator(),
        channels=channels or Channels.parse("web:EUR:DE:incl:pay-later"),
        gateways=gateways or {"manual": ManualPaymentGateway()},
        shipping=shipping, shipping_store=shipping_store or MemoryShippingStore(), catalog_version=catalog_version,
        tax=tax or RateTableTax(regional=regional_rates), regional_rates=regional_rates,
        search_index=search_index or MemorySearchIndex(),
        webhook_targets=webhook_targets or WebhookTargets(StaticResolver({})),  # names resolve to nothing
        auth_limits=auth_limits, pay_later=pay_later, rooms=rooms or MemoryWaitingRooms(),
        admissions=admissions, rates=RateTable([*european_vat_rates(), *SEEDED_US_STATES]),
        media_storage=media_storage or MemoryMediaStorage(), images=images or _images(),
        media_limits=media_limits, renderer=renderer or ReportlabDocumentRenderer(), shop=shop,
    )


_CODEC: list[PillowImageCodec] = []


def _images() -> PillowImageCodec:
    """One codec (one thread pool) for every bus a test run builds."""
    if not _CODEC:
        _CODEC.append(PillowImageCodec())
    return _CODEC[0]
