"""Which consumer reacts to which event topic. The relay and the worker both read this."""

from __future__ import annotations

from application.analytics import handlers as analytics
from application.catalog import categories, collections
from application.catalog import handlers as catalog
from application.catalog.cdn import CdnPurger, purge_on_change
from application.catalog.events import ProductDocumentChanged
from application.consumers import Consumer, ConsumerRegistry
from application.inventory import handlers as inventory
from application.search import indexer
from application.search.ports import SearchIndex
from domain.catalog.categories import CategoryTreeChanged
from domain.catalog.collections import CollectionChanged
from domain.catalog.pricing import PriceListChanged
from domain.catalog.product import ProductSaved
from domain.inventory.stock import StockChanged


class _NoCdn:
    async def purge(self, surrogate_keys: list[str]) -> None:
        return None


def build_registry(
    *, cdn: CdnPurger | None = None, search: SearchIndex | None = None, search_language: str = "english"
) -> ConsumerRegistry:
    search_consumers = [] if search is None else [
        Consumer("search_indexer")
        .on(ProductDocumentChanged.topic, indexer.on_document_changed(search, language=search_language))
        .on(StockChanged.topic, indexer.on_stock_changed(search, language=search_language)),
    ]
    return ConsumerRegistry(
        [
            Consumer("cdn_purge").on(ProductDocumentChanged.topic, purge_on_change(cdn or _NoCdn())),
            Consumer("catalog_projection")
            .on(ProductSaved.topic, catalog.on_product_saved)
            .on(PriceListChanged.topic, catalog.on_price_list_changed),
            Consumer("category_projection").on(CategoryTreeChanged.topic, categories.project_categories),
            Consumer("collection_projection").on(CollectionChanged.topic, collections.project_collection),
            Consumer("inventory_availability").on(StockChanged.topic, inventory.project_availability),
            Consumer("analytics_facts").on_every(analytics.record_domain_event),
            *search_consumers,
        ]
    )
