from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from application.catalog.events import ProductDocumentChanged
from application.catalog.ports import ProductReads
from application.ports.unit_of_work import UnitOfWork
from domain.shared.events import DomainEvent

logger = logging.getLogger(__name__)


class CdnPurger(Protocol):
    async def purge(self, surrogate_keys: list[str]) -> None:
        """Ask the CDN to drop every cached response tagged with any of ``surrogate_keys``."""
        ...


LISTINGS_KEY = "product-listings"


def product_keys(product_id: str) -> list[str]:
    """The product's own page and every listing page (they show its name and price)."""
    return [f"product-{product_id}", LISTINGS_KEY]


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
        keys = [*(f"drop-{event.aggregate_id}" for event in events), *(f"product-{p}" for p in product_ids)]
        await purger.purge(list(dict.fromkeys(keys)))

    return handle
