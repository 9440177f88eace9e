"""Bootstrap: find every ``@handler`` in the application and bind it to what it asks for.

The adapters come in as arguments (the composition root passes the real ones, tests pass
fakes from ``tests/support``); the application's own services built on them (the guarded
stock gate, the reservation batcher, the promotion engine) are made here. Each handler's
keyword parameters are injected by name — a handler asking for something nobody provides
fails here, at start-up, not on its first request.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import pkgutil
import secrets
from collections.abc import Callable, Iterator, Mapping
from datetime import timedelta
from types import ModuleType
from typing import Any

import application
from application.analytics.ports import TrackingQueue
from application.carts.ports import CartStore, PromotionEngine
from application.carts.pricing import Channels
from application.catalog.media_commands import MediaLimits
from application.catalog.snapshot import CatalogReads, CatalogSnapshot, CatalogVersion
from application.checkout.ports import ShippingRates, TaxCalculator
from application.customers.ports import PasswordHasher, SessionStore
from application.customers.throttle import AuthLimits
from application.drops.admission import AdmissionTokens
from application.drops.ceiling import AdmissionCeilings
from application.drops.live import LiveDrops
from application.drops.queue import SellOutWatch, TicketDesk
from application.drops.rooms import WaitingRooms
from application.inventory.batching import ReservationBatcher
from application.inventory.gate_cache import GroupedGate, SoldOutMemory
from application.inventory.ports import StockGate
from application.inventory.queries import StockStatuses
from application.invoicing.ports import DocumentRenderer
from application.messaging.bus import CommandHandler, MessageBus
from application.messaging.registry import Command, is_handler
from application.payments.pay_later import PayLater
from application.ports.addresses import AddressValidator
from application.ports.clock import Clock, IdGenerator
from application.ports.media import ImageCodec, MediaStorage
from application.ports.notifier import Notifier
from application.ports.payments import PaymentGateway
from application.ports.rate_limit import RateLimiter
from application.promotions.engine import StoredPromotions
from application.search.ports import SearchIndex
from application.shipping.kept import KeptShippingRates
from application.shipping.ports import ShippingStore
from application.tax.ports import RegionalTaxRates
from application.webhooks.targets import WebhookTargets
from domain.shared.shop import Shop
from domain.tax.rates import RateTable


class WiringError(LookupError):
    """A handler asks for a dependency nobody provides, or two handlers claim one command."""


def bootstrap(
    *, uow: Callable[[], Any], clock: Clock, ids: IdGenerator, gate: StockGate, cart_store: CartStore,
    sessions: SessionStore, hasher: PasswordHasher, notifier: Notifier, limiter: RateLimiter,
    addresses: AddressValidator, channels: Channels, gateways: Mapping[str, PaymentGateway],
    shipping_store: ShippingStore, shipping: ShippingRates | None = None, tax: TaxCalculator,
    search_index: SearchIndex, tracking_queue: TrackingQueue,
    promotions: PromotionEngine | None = None, reservation_ttl: int = 600, pay_later: PayLater | None = None,
    webhook_targets: WebhookTargets, auth_limits: AuthLimits | None = None,
    catalog: CatalogReads | None = None, stock_status_ttl: float = 0.0,
    catalog_version: CatalogVersion | None = None, live_promotions_ttl: float = 0.0,
    drop_capacity: float = 50.0, rooms: WaitingRooms, admissions: AdmissionTokens | None = None,
    drop_overbook: float = 1.5, drop_admission_window: float = 120.0, drop_hold_ttl: int = 120,
    regional_rates: RegionalTaxRates, rates: RateTable | None = None,
    media_storage: MediaStorage, images: ImageCodec, media_limits: MediaLimits | None = None,
    renderer: DocumentRenderer, shop: Shop | None = None,
) -> MessageBus:
    """A bus with every handler bound to the given adapters. ``catalog``: where carts read products
    and prices (the composition root keeps them between catalog changes; by default, the database).
    ``drop_capacity``: buyers a second the shop serves, a drop's admission rate unless it sets one;
    ``drop_overbook``: admitted shoppers a unit left, at most, counting those admitted in the last
    ``drop_admission_window`` seconds who have not bought yet (``application.drops.ceiling``);
    ``rooms``: the drops' waiting rooms; ``admissions``: signs and checks admission tokens (by default
    with a key of this process's own — the composition root gives the shop's secret keys); ``regional_rates``:
    the US states' sales tax the merchant keeps (``tax`` reads it too); ``rates``: the cart page's tax
    estimate for a channel's own country (none by default); ``shipping_store``: the merchant's shipping
    table, which checkout reads through ``shipping`` (by default kept per catalog version); ``media_storage``,
    ``images``, ``media_limits``: where product images are stored, what checks and resizes them, and the
    upload size and rendition widths; ``renderer``: what makes invoices and credit notes into PDFs (stored
    in ``media_storage``, privately); ``shop``: the seller they name, and the time zone of their dates."""
    bus = MessageBus({})
    catalog = catalog or CatalogSnapshot(uow)
    admissions = admissions or AdmissionTokens([secrets.token_urlsafe(32)])
    dependencies: dict[str, object] = {
        "uow": uow, "clock": clock, "ids": ids, "cart_store": cart_store, "sessions": sessions,
        "hasher": hasher, "notifier": notifier, "limiter": limiter, "addresses": addresses,
        "channels": channels, "gateways": gateways, "tax": tax,
        "shipping": shipping or KeptShippingRates(shipping_store, catalog_version),
        "shipping_store": shipping_store, "catalog_version": catalog_version,
        "search_index": search_index, "tracking_queue": tracking_queue, "reservation_ttl": reservation_ttl,
        "drop_hold_ttl": drop_hold_ttl,
        "gate": SoldOutMemory(GroupedGate(gate)),
        "batcher": ReservationBatcher(uow, clock, ids),
        "catalog": catalog,
        "statuses": StockStatuses(uow, ttl=stock_status_ttl),
        "promotions": promotions or StoredPromotions(uow, catalog, version=catalog_version, ttl=live_promotions_ttl),
        "rates": rates or RateTable(),
        "regional_rates": regional_rates,
        "pay_later": pay_later or PayLater(),
        "webhook_targets": webhook_targets,
        "dispatch": bus.handle,
        "auth_limits": auth_limits or AuthLimits(),
        "drop_capacity": drop_capacity,
        "drops": LiveDrops(uow, catalog_version),
        "rooms": rooms,
        "admissions": admissions,
        "sell_out_watch": SellOutWatch(),
        "ceilings": AdmissionCeilings(
            uow, overbook=drop_overbook, lapse=min(admissions.ttl, timedelta(seconds=drop_admission_window))),
        "desk": TicketDesk(uow),
        "media_storage": media_storage,
        "images": images,
        "media_limits": media_limits or MediaLimits(),
        "renderer": renderer,
        "shop": shop or Shop(),
    }
    bus.register(bind(handlers(), dependencies))
    return bus


def handlers() -> dict[type[Command[Any]], Callable[..., Any]]:
    """Every ``@handler`` of the application, by the command it handles (exactly one each)."""
    found: dict[type[Command[Any]], Callable[..., Any]] = {}
    for module in _modules():
        for fn in vars(module).values():
            if not is_handler(fn) or fn.__module__ != module.__name__:
                continue
            command = command_of(fn)
            if command in found:
                raise WiringError(f"{command.__name__} has two handlers: {_name(found[command])} and {_name(fn)}")
            found[command] = fn
    return found


def command_of(fn: Callable[..., Any]) -> type[Command[Any]]:
    """The command type a handler's first parameter is annotated with."""
    first = next(iter(inspect.signature(fn).parameters.values()))
    annotation = first.annotation
    if isinstance(annotation, str):
        # The handler's own module, also under a functools.wraps wrapper (a tracer, a mutation trampoline).
        module_globals = inspect.unwrap(fn).__globals__
        annotation = eval(annotation, module_globals)  # noqa: S307 — a name from the handler's own module
    if not (isinstance(annotation, type) and issubclass(annotation, Command)):
        raise WiringError(f"{_name(fn)}: its first parameter must be annotated with a Command subclass")
    return annotation


def bind(found: Mapping[type, Callable[..., Any]], dependencies: Mapping[str, object]) -> dict[type, CommandHandler]:
    bound: dict[type, CommandHandler] = {}
    for command, fn in found.items():
        wanted = {}
        for parameter in list(inspect.signature(fn).parameters.values())[1:]:
            if parameter.name in dependencies:
                wanted[parameter.name] = dependencies[parameter.name]
            elif parameter.default is inspect.Parameter.empty:
                raise WiringError(f"{_name(fn)} asks for {parameter.name!r}, which nothing provides")
        bound[command] = functools.partial(fn, **wanted)
    return bound


def _modules() -> Iterator[ModuleType]:
    for info in pkgutil.walk_packages(application.__path__, prefix="application."):
        yield importlib.import_module(info.name)


def _name(fn: Callable[..., Any]) -> str:
    return f"{fn.__module__}.{fn.__qualname__}"
