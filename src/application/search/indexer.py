"""Keeps the search index current from committed events, and rebuilds it on demand."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from application.catalog.events import ProductDocumentChanged
from application.catalog.ports import CatalogUnitOfWork
from application.inventory.read_models import Availability
from application.search.documents import build_search_document
from application.search.ports import SearchIndex
from domain.inventory.stock import StockChanged


class AvailabilityReader(Protocol):
    async def refresh(self, sku: str) -> Availability: ...

    async def get(self, skus: Any) -> dict[str, Availability]: ...


class IndexerUnitOfWork(CatalogUnitOfWork, Protocol):
    availability_view: AvailabilityReader


async def index_products(product_ids: list[str], tx: IndexerUnitOfWork, index: SearchIndex, *,
                         wait: bool = False, language: str = "english") -> int:
    """Push the current documents of these products (or remove them if no longer active); returns upserts.
    Two reads whatever the number of products: their storefront documents, then their SKUs' availability."""
    upserts, removals = [], []
    documents = await tx.catalog_view.products_by_ids(product_ids)
    skus = [v.sku for d in documents.values() for v in d.variants]
    availability = await tx.availability_view.get(skus) if skus else {}
    for product_id in product_ids:
        document = documents.get(product_id)
        indexed = build_search_document(document, availability, language=language) if document else None
        if indexed is None:
            removals.append(product_id)
        else:
            upserts.append(indexed)
    if upserts:
        await index.upsert(upserts, wait=wait)
    if removals:
        await index.delete(removals, wait=wait)
    return len(upserts)


async def _serialised(product_ids: list[str], tx: IndexerUnitOfWork) -> None:
    """Take the products' projection locks until this consumer commits. Two indexers of one product
    (a price and a stock change at once) then read and push in turn, so the engine, which applies
    writes in the order they arrive, never ends on the older read."""
    await tx.catalog_view.lock_products(sorted(product_ids))


def on_changes(
    index: SearchIndex, *, language: str = "english"
) -> Callable[[list[ProductDocumentChanged | StockChanged], Any], Awaitable[None]]:
    """Consumer of a burst of document and stock changes: every product they touch, read and pushed once
    (two reads and one write to the index per burst, plus an availability refresh per SKU that crossed zero)."""

    async def handle(events: list[ProductDocumentChanged | StockChanged], tx: IndexerUnitOfWork) -> None:
        product_ids = {e.aggregate_id for e in events if isinstance(e, ProductDocumentChanged)}
        # Some units at a location before and after: whether the SKU is on sale cannot have changed, so its
        # product's search document has not (a sale's every unit would otherwise reindex it).
        crossed = sorted({e.sku for e in events if isinstance(e, StockChanged) and e.crossed_zero})
        for sku in crossed:
            await tx.availability_view.refresh(sku)  # its own consumer may not have run yet
        if crossed:
            product_ids.update(await tx.products.product_ids_for_skus(crossed))
        if product_ids:
            await _serialised(sorted(product_ids), tx)
            await index_products(sorted(product_ids), tx, index, language=language)

    return handle


async def reindex(
    *, uow: Callable[[], IndexerUnitOfWork], index: SearchIndex, progress: Callable[[int, int], None] | None = None,
    page_size: int = 1000, clear: bool = False, language: str = "english",
) -> int:
    """Rebuild the index from the catalog read model, a page at a time; returns documents indexed.

    By default search keeps answering throughout: every document is rewritten in place, then what
    was not rewritten (products gone or no longer active) is swept. ``clear`` empties it first."""
    async with uow() as tx:
        product_ids = await tx.products.all_ids()
    mark = await index.mark()
    if clear:
        await index.clear()
    indexed = 0
    for start in range(0, len(product_ids), page_size):
        async with uow() as tx:
            indexed += await index_products(product_ids[start : start + page_size], tx, index,
                                            wait=start + page_size >= len(product_ids), language=language)
        if progress:
            progress(min(start + page_size, len(product_ids)), len(product_ids))
    if not clear:
        await index.sweep(mark)
    return indexed
