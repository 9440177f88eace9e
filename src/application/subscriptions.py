"""Which consumer reacts to which event topic. The relay and the worker both read this."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from application.analytics import handlers as analytics
from application.catalog import categories, collections
from application.catalog import projection as catalog
from application.catalog.cdn import CdnPurger, purge_on_changes, purge_on_drop_changes, purge_on_structure_changes
from application.catalog.events import ProductDocumentChanged
from application.catalog.media_commands import DeleteMediaObjects, RenderImage
from application.inventory import handlers as inventory
from application.invoicing.handlers import RenderDocument
from application.messaging.consumers import Consumer, ConsumerRegistry
from application.orders import emails
from application.orders import handlers as orders
from application.orders.projections import project_order, sales_projection
from application.orders.stock import SecureOrderStock
from application.ports.clock import Clock, IdGenerator
from application.ports.notifier import Notifier
from application.ports.unit_of_work import UnitOfWork
from application.search import indexer
from application.search.ports import SearchIndex
from application.webhooks import handlers as webhooks
from application.webhooks.ports import WebhookQueue
from domain.catalog.categories import CategoryTreeChanged
from domain.catalog.collections import CollectionChanged, CollectionDeleted
from domain.catalog.media import GalleryChanged, ImageRemoved, ImageUploaded
from domain.catalog.pricing import PriceListChanged
from domain.catalog.product import ProductSaved
from domain.catalog.types import ProductTypeChanged
from domain.drops.drop import DropCancelled, DropEdited, DropScheduled, DropSoldOut
from domain.inventory.stock import StockChanged
from domain.invoicing.documents import DocumentIssued
from domain.orders.order import OrderPaid, OrderPlaced, OrderRefunded, OrderStatusChanged
from domain.shared.events import DomainEvent
from domain.shared.shop import Shop
from domain.webhooks.subscription import PUBLIC_TOPICS, WebhookDeliveryScheduled


class _NoCdn:
    async def purge(self, surrogate_keys: list[str]) -> None:
        return None


async def _no_dispatch(command: object) -> object:
    raise RuntimeError(f"no bus to run {type(command).__name__}")


def build_registry(
    *, cdn: CdnPurger | None = None, dispatch: Callable[[object], Awaitable[object]] | None = None,
    search: SearchIndex | None = None, search_language: str = "english",
    notifier: Notifier | None = None, webhook_queue: WebhookQueue | None = None,
    clock: Clock | None = None, ids: IdGenerator | None = None, shop: Shop | None = None,
) -> ConsumerRegistry:
    """``dispatch`` runs commands for consumers that act through other contexts (order stock);
    ``search`` adds the indexer that keeps that index current; ``notifier`` adds the order
    e-mails; ``webhook_queue`` (with ``clock`` and ``ids``) adds outbound webhooks; ``shop``: whose days
    the daily sales count in (UTC's by default)."""
    run = dispatch or _no_dispatch
    search_consumers = [] if search is None else [
        Consumer("search_indexer").on_many(
            [ProductDocumentChanged.topic, StockChanged.topic], indexer.on_changes(search, language=search_language),
        ),
    ]

    optional = [*search_consumers]
    if notifier is not None:
        mails = Consumer("order_emails", batched=False)  # e-mails leave the transaction
        for topic, handler in emails.TOPICS.items():
            mails.on_message(topic, handler(notifier))
        optional.append(mails)
    if webhook_queue is not None:
        if clock is None or ids is None:
            raise ValueError("webhooks need a clock and an id generator")
        schedule = webhooks.schedule_deliveries(clock, ids)
        scheduler = Consumer("webhooks")
        for topic in sorted(PUBLIC_TOPICS):
            scheduler.on_message(topic, schedule)
        optional += [
            scheduler,
            Consumer("webhook_dispatch", batched=False).on(  # sends are enqueued outside the transaction
                WebhookDeliveryScheduled.topic, webhooks.dispatch_scheduled(webhook_queue),
            ),
        ]

    async def secure_stock(event: DomainEvent, _: UnitOfWork) -> None:
        await run(SecureOrderStock(order_id=event.aggregate_id))

    async def render_image(event: DomainEvent, _: UnitOfWork) -> None:
        if isinstance(event, ImageUploaded):
            await run(RenderImage(product_id=event.aggregate_id, image_id=event.image_id))

    async def delete_media(event: DomainEvent, _: UnitOfWork) -> None:
        if isinstance(event, ImageRemoved):
            await run(DeleteMediaObjects(keys=list(event.keys)))

    async def render_document(event: DomainEvent, _: UnitOfWork) -> None:
        await run(RenderDocument(document_id=event.aggregate_id))

    async def settle_stock(event: DomainEvent, _: UnitOfWork) -> None:
        if isinstance(event, OrderStatusChanged) and event.action in ("ship", "cancel", "refund", "dispute_lost"):
            await run(orders.SettleOrderStock(order_id=event.aggregate_id))

    return ConsumerRegistry(
        [
            Consumer("order_projection")
            .on(OrderPlaced.topic, project_order).on(OrderPaid.topic, project_order)
            .on(OrderStatusChanged.topic, project_order).on(OrderRefunded.topic, project_order),
            Consumer("sales_projection")
            .on(OrderPaid.topic, sales_projection(shop or Shop()))
            .on(OrderRefunded.topic, sales_projection(shop or Shop())),
            # Its commands run through the bus, each in a transaction of its own.
            Consumer("order_stock", batched=False).on(OrderPlaced.topic, secure_stock).on(OrderPaid.topic, secure_stock)
            .on(OrderStatusChanged.topic, settle_stock),
            Consumer("cdn_purge").on_many([ProductDocumentChanged.topic], purge_on_changes(cdn or _NoCdn())),
            Consumer("cdn_purge_drops").on_many(
                [DropScheduled.topic, DropEdited.topic, DropCancelled.topic, DropSoldOut.topic],
                purge_on_drop_changes(cdn or _NoCdn())),
            Consumer("cdn_purge_structure").on_many(
                [CategoryTreeChanged.topic, CollectionChanged.topic, CollectionDeleted.topic],
                purge_on_structure_changes(cdn or _NoCdn())),
            # A renamed, moved or deleted category changes the documents of the products in it and below it,
            # a changed product type those of its products (labels, units, facets).
            Consumer("catalog_projection").on_many(
                [ProductSaved.topic, PriceListChanged.topic, CategoryTreeChanged.topic, ProductTypeChanged.topic,
                 GalleryChanged.topic],
                catalog.project_catalog_events),
            # Renditions are made (CPU work, in the codec's threads) and objects deleted outside the
            # delivery's transaction, through the bus: the commands are idempotent.
            Consumer("media_renditions", batched=False).on(ImageUploaded.topic, render_image),
            Consumer("media_cleanup", batched=False).on(ImageRemoved.topic, delete_media),
            # An invoice's or credit note's PDF is made (CPU work, off the loop) and stored outside the delivery's
            # transaction, through the bus: rendering again is harmless.
            Consumer("invoice_documents", batched=False).on(DocumentIssued.topic, render_document),
            Consumer("category_projection").on(CategoryTreeChanged.topic, categories.project_categories),
            Consumer("collection_projection").on(CollectionChanged.topic, collections.project_collection)
            .on(CollectionDeleted.topic, collections.project_collection_deleted),
            Consumer("inventory_availability").on_many([StockChanged.topic], inventory.project_availabilities),
            Consumer("analytics_facts").on_every_many(analytics.record_domain_events),
            *optional,
        ]
    )
