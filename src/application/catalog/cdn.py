from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Protocol

from application.catalog.events import ProductDocumentChanged
from application.catalog.ports import ProductReads
from application.ports.unit_of_work import UnitOfWork
from domain.catalog.categories import CategoryTreeChanged
from domain.catalog.collections import CollectionChanged, CollectionDeleted
from domain.shared.events import DomainEvent

logger = logging.getLogger(__name__)


class CdnPurger(Protocol):
    async def purge(self, surrogate_keys: list[str]) -> None:
        """Ask the CDN to drop every cached response tagged with any of ``surrogate_keys``."""
        ...


# Surrogate keys: what a cached storefront document is tagged with, and what a change purges.
#
# - ``product-<id>``: the product's page, and every listing, category or collection page that shows it (each
#   such page carries the keys of the products it lists): a product's change purges exactly those.
# - ``category-<id>``: a category's pages, whatever they list today: a product newly in the category purges
#   them (it is on none of them yet).
# - ``products``: the listings of the whole catalog (``/store/products`` without a category, suggestions),
#   where any product may appear or move with a change.
# - ``categories``: the category tree and every category page (they show the node); ``collection-<id>``: a
#   collection's page; ``drop-<id>``: the product pages showing a drop.
ALL_PRODUCTS_KEY = "products"
CATEGORIES_KEY = "categories"


def product_key(product_id: str) -> str:
    return f"product-{product_id}"


def category_key(category_id: str) -> str:
    return f"category-{category_id}"


def drop_key(drop_id: str) -> str:
    return f"drop-{drop_id}"


def collection_key(collection_id: str) -> str:
    return f"collection-{collection_id}"


def product_keys(product_id: str, category_ids: Iterable[str] = ()) -> list[str]:
    """What a change to the product's document purges: its page and the pages listing it (``product-``), the
    pages of its categories and of every one above them (``category_ids``: a parent's page lists its
    sub-categories' products), which may not list it yet (``category-``), and the whole-catalog listings."""
    return [product_key(product_id), *(category_key(c) for c in category_ids), ALL_PRODUCTS_KEY]


def listing_keys(product_ids: Iterable[str], *, category_id: str | None = None) -> list[str]:
    """The keys of a listing page: each product it shows, and its category's key (or the whole catalog's)."""
    scope = [CATEGORIES_KEY, category_key(category_id)] if category_id else [ALL_PRODUCTS_KEY]
    return [*scope, *dict.fromkeys(product_key(p) for p in product_ids)]


def purge_on_changes(purger: CdnPurger) -> Callable[[list[ProductDocumentChanged], UnitOfWork], Awaitable[None]]:
    """Consumer of a burst of changed documents: one purge naming every key they tag."""

    async def handle(events: list[ProductDocumentChanged], _: UnitOfWork) -> None:
        # A failed purge raises: the delivery (and its processed marks) rolls back and retries.
        await purger.purge(list(dict.fromkeys(key for event in events for key in event.surrogate_keys)))

    return handle


def purge_on_drop_changes(purger: CdnPurger) -> Callable[[list[DomainEvent], ProductReads], Awaitable[None]]:
    """Consumer of drop changes (scheduled, edited, cancelled, sold out): the pages of the products they
    sell show the drop, so they go — found by the drop's key, and by the products' own keys for pages
    cached before the drop was scheduled (an edit's old SKUs are not known here: their pages show the
    drop until their cache ages out, which ``drop-`` keys bound)."""

    async def handle(events: list[DomainEvent], tx: ProductReads) -> None:
        skus = sorted({sku for event in events for sku in getattr(event, "skus", ())})
        product_ids = await tx.products.product_ids_for_skus(skus) if skus else []
        keys = [*(drop_key(event.aggregate_id) for event in events), *(product_key(p) for p in product_ids)]
        await purger.purge(list(dict.fromkeys(keys)))

    return handle


def purge_on_structure_changes(purger: CdnPurger) -> Callable[[list[DomainEvent], UnitOfWork], Awaitable[None]]:
    """Consumer of category tree and collection changes: the tree and the category pages (they show the node,
    its name and its children), or the collection's page (by its id: a page left at an old slug goes too).
    The pages of the products a category change moves follow through their documents."""

    async def handle(events: list[DomainEvent], _: UnitOfWork) -> None:
        keys = [CATEGORIES_KEY if isinstance(event, CategoryTreeChanged) else collection_key(event.aggregate_id)
                for event in events if isinstance(event, CategoryTreeChanged | CollectionChanged | CollectionDeleted)]
        if keys:
            await purger.purge(list(dict.fromkeys(keys)))

    return handle
