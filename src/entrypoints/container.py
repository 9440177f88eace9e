"""The composition root: the one place that knows every adapter. Shared by HTTP, worker and CLI."""

from __future__ import annotations

import functools
from typing import Any

from dependency_injector import containers, providers

from adapters.dramatiq.broker import DramatiqPublisher, make_broker
from adapters.dramatiq.tracking import DramatiqTrackingQueue
from adapters.dramatiq.webhooks import DramatiqWebhookQueue
from adapters.http.cdn import HttpCdnPurger, LoggingCdnPurger
from adapters.http.webhooks import HttpxWebhookSender
from adapters.meilisearch.index import MeilisearchSearchIndex
from adapters.memory.analytics import InlineTrackingQueue
from adapters.memory.carts import MemoryCartCache, MemoryDurableCarts
from adapters.memory.customers import LoggingNotifier, MemorySessionStore
from adapters.memory.inventory import MemoryStockGate
from adapters.memory.rate_limit import MemoryRateLimiter
from adapters.memory.search import MemorySearchIndex
from adapters.postgres.carts import PostgresDurableCarts
from adapters.postgres.engine import make_engine
from adapters.postgres.idempotency import PostgresIdempotencyStore
from adapters.postgres.notifications import PostgresSentNotifications
from adapters.postgres.outbox import PostgresOutboxStore
from adapters.postgres.search import PostgresSearchIndex
from adapters.postgres.unit_of_work import PostgresUnitOfWork
from adapters.redis.carts import RedisCartCache
from adapters.redis.client import make_redis
from adapters.redis.rate_limit import RedisRateLimiter
from adapters.redis.sessions import RedisSessionStore
from adapters.redis.stock_gate import RedisStockGate
from adapters.smtp.notifier import SmtpNotifier
from adapters.stripe.payments import StripePaymentGateway
from adapters.system.addresses import I18nAddressValidator
from adapters.system.clock import SystemClock, UuidIdGenerator
from adapters.system.manual_payments import ManualPaymentGateway
from adapters.system.passwords import Argon2Hasher
from adapters.system.shipping import TableShippingRates
from adapters.system.tax import RateTableTax
from application.analytics import handlers as analytics
from application.carts import commands as cart
from application.carts import handlers as carts
from application.carts.pricing import Channels
from application.carts.store import LayeredCartStore
from application.catalog import categories, collections
from application.catalog import commands as cat
from application.catalog import handlers as catalog
from application.checkout import commands as co
from application.checkout import payment as checkout_payment
from application.checkout import place as checkout_place
from application.checkout import steps as checkout
from application.customers import handlers as customers
from application.giftcards import handlers as giftcards
from application.inventory import commands as inv
from application.inventory import handlers as inventory
from application.inventory.batching import ReservationBatcher
from application.inventory.gate_cache import GroupedGate, SoldOutMemory
from application.messaging.bus import MessageBus
from application.messaging.relay import OutboxRelay
from application.notifications import OnceNotifier
from application.orders import handlers as orders
from application.orders import queries as order_queries
from application.orders import stock as order_stock
from application.payments import commands as pay
from application.payments import handlers as payments
from application.promotions import handlers as promos
from application.promotions.engine import StoredPromotions
from application.search import merchandising as merch
from application.staff import handlers as staff
from application.subscriptions import build_registry
from application.webhooks import handlers as webhooks
from domain.tax.rates import RateTable
from entrypoints.settings import Settings, get_settings


def build_bus(
    uow: Any, clock: Any, ids: Any, tracking_queue: Any = None, gate: Any = None, reservation_ttl: int = 600,
    *, cart_store: Any = None, promotions: Any = None, sessions: Any = None, hasher: Any = None,
    notifier: Any = None, limiter: Any = None, addresses: Any = None, channels: Channels | None = None,
    gateways: dict[str, Any] | None = None, shipping: Any = None, tax: Any = None, search_index: Any = None,
) -> MessageBus:
    """Bind every command to its handler and the handler's dependencies (fakes where none is given)."""
    deps = {"uow": uow, "clock": clock, "ids": ids}
    search_index = search_index or MemorySearchIndex()
    channels = channels or Channels()
    cart_store = cart_store or LayeredCartStore(MemoryDurableCarts(), MemoryCartCache(), clock)
    promotions = promotions or StoredPromotions(uow)
    sessions = sessions or MemorySessionStore()
    hasher = hasher or Argon2Hasher()
    notifier = notifier or LoggingNotifier()
    limiter = limiter or MemoryRateLimiter(clock.now)
    addresses = addresses or I18nAddressValidator()
    carted = {"store": cart_store, "clock": clock}
    gateways = gateways or {"manual": ManualPaymentGateway()}
    shipping = shipping or TableShippingRates()
    tax = tax or RateTableTax()
    bus = MessageBus({})

    async def dispatch(command: object) -> Any:
        return await bus.handle(command)

    pricing = {"store": cart_store, "promotions": promotions, "channels": channels}
    tracking_queue = tracking_queue or InlineTrackingQueue(uow)
    gate = SoldOutMemory(GroupedGate(gate or MemoryStockGate()))
    stock = {"uow": uow, "gate": gate, "clock": clock}
    bus.register(
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
            inv.CommitReservation: functools.partial(inventory.commit_reservation, **stock),
            inv.ReleaseReservation: functools.partial(inventory.release_reservation, **stock),
            inv.ReturnReservation: functools.partial(inventory.return_reservation, **stock),
            inv.ShipReservation: functools.partial(inventory.ship_reservation, **stock),
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
            cart.AddCartLine: functools.partial(carts.add_line, **carted, uow=uow, ids=ids, channels=channels),
            cart.ChangeCartLine: functools.partial(carts.change_line, **carted),
            cart.RemoveCartLine: functools.partial(carts.remove_line, **carted),
            cart.ApplyCoupon: functools.partial(
                carts.apply_coupon, **carted, ids=ids, promotions=promotions, channels=channels,
            ),
            cart.RemoveCoupon: functools.partial(carts.remove_coupon, **carted),
            cart.MergeGuestCart: functools.partial(carts.merge_guest_cart, **carted, ids=ids, channels=channels),
            cart.ViewCart: functools.partial(
                carts.view_cart, **carted, uow=uow, promotions=promotions, channels=channels, rates=RateTable(),
            ),
            customers.RegisterCustomer: functools.partial(customers.register, **deps, hasher=hasher),
            customers.SignIn: functools.partial(
                customers.sign_in, uow=uow, hasher=hasher, sessions=sessions, limiter=limiter,
            ),
            customers.SignOut: functools.partial(customers.sign_out, sessions=sessions),
            customers.CurrentCustomer: functools.partial(customers.current_customer, sessions=sessions),
            customers.GetProfile: functools.partial(customers.profile, uow=uow),
            customers.UpdateProfile: functools.partial(customers.update_profile, uow=uow),
            customers.AddAddress: functools.partial(customers.add_address, uow=uow, ids=ids, addresses=addresses),
            customers.ReplaceAddress: functools.partial(customers.replace_address, uow=uow, addresses=addresses),
            customers.RemoveAddress: functools.partial(customers.remove_address, uow=uow),
            customers.RequestPasswordReset: functools.partial(
                customers.request_password_reset, **deps, notifier=notifier, limiter=limiter,
            ),
            customers.ResetPassword: functools.partial(
                customers.reset_password, uow=uow, clock=clock, hasher=hasher, sessions=sessions,
            ),
            promos.CreatePromotion: functools.partial(promos.create_promotion, **deps),
            promos.EditPromotion: functools.partial(promos.edit_promotion, uow=uow, clock=clock),
            promos.PublishPromotion: functools.partial(promos.publish_promotion, uow=uow, clock=clock),
            promos.SchedulePromotion: functools.partial(promos.schedule_promotion, uow=uow, clock=clock),
            promos.ArchivePromotion: functools.partial(promos.archive_promotion, uow=uow, clock=clock),
            promos.GetPromotion: functools.partial(promos.get_promotion, uow=uow),
            promos.ListPromotions: functools.partial(promos.list_promotions, uow=uow),
            promos.AddCoupons: functools.partial(promos.add_coupons, uow=uow),
            promos.PreviewPromotion: functools.partial(promos.preview_promotion, uow=uow, clock=clock),
            order_queries.GetOrder: functools.partial(order_queries.get_order, uow=uow),
            giftcards.IssueGiftCard: functools.partial(giftcards.issue_gift_card, uow=uow, clock=clock),
            giftcards.GetGiftCard: functools.partial(giftcards.get_gift_card, uow=uow),
            order_queries.ListOrders: functools.partial(order_queries.list_orders, uow=uow),
            order_queries.SalesReport: functools.partial(order_queries.sales_report, uow=uow),
            orders.MarkPaid: functools.partial(orders.mark_paid, uow=uow, clock=clock),
            orders.FulfilOrder: functools.partial(orders.fulfil_order, **deps),
            orders.ShipOrder: functools.partial(orders.ship_order, uow=uow, clock=clock),
            orders.SettleOrderStock: functools.partial(orders.settle_order_stock, uow=uow, dispatch=dispatch),
            orders.DeliverOrder: functools.partial(orders.deliver_order, uow=uow, clock=clock),
            orders.CancelOrder: functools.partial(
                orders.cancel_order, uow=uow, clock=clock, gateways=gateways, dispatch=dispatch,
            ),
            orders.RefundOrder: functools.partial(orders.refund_order, uow=uow, clock=clock, gateways=gateways),
            co.StartCheckout: functools.partial(checkout.start_checkout, **deps, store=cart_store),
            co.GetCheckout: functools.partial(checkout.get_checkout, uow=uow),
            co.SetContact: functools.partial(checkout.set_contact, uow=uow, clock=clock, dispatch=dispatch),
            co.SetAddress: functools.partial(
                checkout.set_address, uow=uow, clock=clock, addresses=addresses, shipping=shipping, dispatch=dispatch,
            ),
            co.ShippingOptions: functools.partial(
                checkout.shipping_options, uow=uow, **pricing, shipping=shipping, clock=clock,
            ),
            co.ChooseShipping: functools.partial(
                checkout.choose_shipping, uow=uow, **pricing, shipping=shipping, clock=clock, dispatch=dispatch,
            ),
            co.StartPayment: functools.partial(
                checkout_payment.start_payment, uow=uow, **pricing, shipping=shipping, tax=tax, gateways=gateways,
                clock=clock, dispatch=dispatch, reservation_ttl=reservation_ttl,
            ),
            co.PlaceOrder: functools.partial(
                checkout_place.place_order, uow=uow, store=cart_store, gateways=gateways, clock=clock, ids=ids,
                dispatch=dispatch,
            ),
            pay.HandlePaymentEvent: functools.partial(
                payments.handle_payment_event, uow=uow, clock=clock, dispatch=dispatch, gateways=gateways,
            ),
            pay.ReconcilePayments: functools.partial(
                payments.reconcile_payments, uow=uow, gateways=gateways, clock=clock, dispatch=dispatch,
            ),
            order_stock.SecureOrderStock: functools.partial(
                order_stock.secure_order_stock, uow=uow, dispatch=dispatch, gateways=gateways, clock=clock,
            ),
            merch.AddSynonymGroup: functools.partial(merch.add_synonym_group, uow=uow, ids=ids, index=search_index),
            merch.RemoveSynonymGroup: functools.partial(merch.remove_synonym_group, uow=uow, index=search_index),
            merch.AddRule: functools.partial(merch.add_rule, uow=uow, ids=ids),
            merch.RemoveRule: functools.partial(merch.remove_rule, uow=uow),
            merch.AddRedirect: functools.partial(merch.add_redirect, uow=uow, ids=ids),
            merch.RemoveRedirect: functools.partial(merch.remove_redirect, uow=uow),
            webhooks.CreateSubscription: functools.partial(webhooks.create_subscription, **deps),
            webhooks.RemoveSubscription: functools.partial(webhooks.remove_subscription, uow=uow),
            webhooks.ReplayDelivery: functools.partial(webhooks.replay_delivery, uow=uow, clock=clock),
        }
    )
    return bus


def make_notifier(settings: Settings, engine: Any, clock: Any) -> Any:
    """SMTP (each keyed e-mail at most once, by the ``sent_emails`` log) when a host is configured."""
    if not settings.smtp_host:
        return LoggingNotifier()
    smtp = SmtpNotifier(
        settings.smtp_host, port=settings.smtp_port, sender=settings.smtp_from, user=settings.smtp_user,
        password=settings.smtp_password, starttls=settings.smtp_starttls,
    )
    return OnceNotifier(smtp, PostgresSentNotifications(engine), clock)


def make_gateways(settings: Settings) -> dict[str, Any]:
    """The manual provider always; Stripe when a key is configured."""
    gateways: dict[str, Any] = {"manual": ManualPaymentGateway()}
    if settings.stripe_api_key:
        gateways["stripe"] = StripePaymentGateway(
            settings.stripe_api_key, settings.stripe_webhook_secret, api_base=settings.stripe_api_base or None,
        )
    return gateways


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
    tracking_queue = providers.Singleton(DramatiqTrackingQueue, broker)
    rate_limiter = providers.Singleton(
        lambda r, s: RedisRateLimiter(r, prefix=f"{s.redis_key_prefix}rl:"), redis, settings,
    )
    stock_gate = providers.Singleton(RedisStockGate, redis)
    cart_store = providers.Singleton(
        lambda e, r, clock, s: LayeredCartStore(
            PostgresDurableCarts(e), RedisCartCache(r, prefix=f"{s.redis_key_prefix}cart:"), clock,
            guest_ttl=s.guest_cart_ttl_seconds, customer_ttl=s.customer_cart_ttl_seconds,
        ),
        engine, redis, clock, settings,
    )
    sessions = providers.Singleton(
        lambda r, s: RedisSessionStore(r, prefix=f"{s.redis_key_prefix}session:"), redis, settings,
    )
    notifier = providers.Singleton(make_notifier, settings, engine, clock)
    webhook_queue = providers.Singleton(DramatiqWebhookQueue, broker)
    webhook_sender = providers.Singleton(lambda s: HttpxWebhookSender(timeout=s.webhook_timeout_seconds), settings)
    channels = providers.Singleton(lambda s: Channels.parse(s.channels), settings)
    gateways = providers.Singleton(make_gateways, settings)
    search_index = providers.Singleton(
        lambda s, engine: MeilisearchSearchIndex(s.meilisearch_url, api_key=s.meilisearch_key,
                                                 index=s.meilisearch_index)
        if s.search_backend == "meilisearch" else PostgresSearchIndex(engine),
        settings, engine,
    )
    bus = providers.Singleton(
        lambda uow, clock, ids, queue, gate, s, store, sessions, notifier, limiter, channels, gateways, search: (
            build_bus(
                uow=uow, clock=clock, ids=ids, tracking_queue=queue, gate=gate,
                reservation_ttl=s.reservation_ttl_seconds, cart_store=store, sessions=sessions, notifier=notifier,
                limiter=limiter, channels=channels, gateways=gateways, search_index=search,
            )
        ),
        uow_factory, clock, ids, tracking_queue, stock_gate, settings, cart_store, sessions, notifier, rate_limiter,
        channels, gateways, search_index,
    )
    consumers = providers.Singleton(
        lambda cdn, bus, search, s, notifier, webhooks, clock, ids: build_registry(
            cdn=cdn, dispatch=bus.handle, search=search, search_language=s.search_language,
            notifier=notifier, webhook_queue=webhooks, clock=clock, ids=ids,
        ),
        cdn, bus, search_index, settings, notifier, webhook_queue, clock, ids,
    )

    outbox_store = providers.Singleton(PostgresOutboxStore, engine)
    idempotency_store = providers.Singleton(PostgresIdempotencyStore, engine)
    publisher = providers.Singleton(DramatiqPublisher, broker)
    relay = providers.Singleton(
        lambda store, pub, reg, s: OutboxRelay(store, pub, reg, poll_interval=s.relay_poll_interval),
        outbox_store, publisher, consumers, settings,
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
