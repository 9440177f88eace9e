"""The product-document projection: each product's storefront document rebuilt from the write side under a
per-product lock, so replays, reordering and concurrent projectors all converge on the current truth (and equal
a full rebuild)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from application.catalog.cdn import product_keys
from application.catalog.events import ProductDocumentChanged
from application.catalog.ports import CatalogUnitOfWork
from application.catalog.read_models import build_document
from domain.catalog.categories import CategoryTree, CategoryTreeChanged
from domain.catalog.media import GalleryChanged
from domain.catalog.pricing import PriceListChanged
from domain.catalog.product import ProductSaved
from domain.catalog.types import ProductTypeChanged

Uow = Callable[[], CatalogUnitOfWork]


async def project_product(product_id: str, tx: CatalogUnitOfWork, *, now: datetime | None = None) -> bool:
    """Write the product's document from the current write side; True (and a
    ``ProductDocumentChanged`` for the CDN) only when it now reads differently."""
    return bool(await project_products({product_id: now}, tx))


async def project_products(changed: dict[str, datetime | None], tx: CatalogUnitOfWork) -> list[str]:
    """Write the documents of these products (id -> when it changed) from the current write side, with a
    constant number of statements however many; returns the ids whose document now reads differently,
    each announced by a ``ProductDocumentChanged`` (for the CDN and search) unless its moment is None.

    The products' projection locks are taken first, in id order: a projection of the same product in
    another transaction waits, so what is written is always built from the write side as it is now,
    whatever order the events came in."""
    product_ids = sorted(changed)
    await tx.catalog_view.lock_products(product_ids)
    products = await tx.products.get_many(product_ids)
    price_lists = await tx.price_lists.for_skus([v.sku for p in products for v in p.variants])
    tree = CategoryTree(await tx.categories.current())  # read under the locks: a rename's projection waits
    types = await tx.product_types.get_many(sorted({p.product_type_id for p in products if p.product_type_id}))
    galleries = await tx.galleries.of_products(product_ids)
    documents = {p.id: build_document(p, price_lists, tree, types, galleries.get(p.id)) for p in products}
    written = await tx.catalog_view.upsert_changed(list(documents.values()))
    for product_id in written:
        if (moment := changed[product_id]) is not None:
            document = documents[product_id]
            keys = product_keys(product_id, [c.id for c in document.categories])
            tx.record(ProductDocumentChanged(aggregate_id=product_id, aggregate_version=document.version,
                                             occurred_at=moment, surrogate_keys=tuple(keys)))
    return written


async def project_catalog_events(
    events: list[ProductSaved | PriceListChanged | CategoryTreeChanged | ProductTypeChanged | GalleryChanged],
    tx: CatalogUnitOfWork,
) -> None:
    """Consumer of a burst of product saves, price changes, category changes, product type changes and gallery
    changes: every product they touch, projected once (a renamed, moved or deleted category touches the products
    in it and below it; a changed type, the products of that type).

    A save whose product's document was already built from that version or a later one (by a projection of
    a later event, or a rebuild: a bulk import's own) is skipped: the document holds it, and prices changed
    since come with their own ``PriceListChanged``."""
    changed: dict[str, datetime | None] = {}

    def touched(product_id: str, moment: datetime) -> None:
        earlier = changed.get(product_id)
        changed[product_id] = moment if earlier is None else max(earlier, moment)

    saved: dict[str, int] = {}
    for event in events:
        if isinstance(event, ProductSaved):
            saved[event.aggregate_id] = max(saved.get(event.aggregate_id, 0), event.aggregate_version)
    built = await tx.catalog_view.versions(list(saved))
    for event in events:
        if isinstance(event, ProductSaved) and built.get(event.aggregate_id, 0) < saved[event.aggregate_id]:
            touched(event.aggregate_id, event.occurred_at)
    for event in events:
        if isinstance(event, GalleryChanged):
            touched(event.aggregate_id, event.occurred_at)
    priced = [e for e in events if isinstance(e, PriceListChanged)]
    if priced:
        latest = max(e.occurred_at for e in priced)
        for product_id in await tx.products.product_ids_for_skus(sorted({s for e in priced for s in e.skus})):
            touched(product_id, latest)
    trees = [e for e in events if isinstance(e, CategoryTreeChanged) and e.changed]
    if trees:
        latest = max(e.occurred_at for e in trees)
        for product_id in await tx.products.in_categories(sorted({c for e in trees for c in e.changed})):
            touched(product_id, latest)
    retyped = [e for e in events if isinstance(e, ProductTypeChanged)]
    if retyped:
        latest = max(e.occurred_at for e in retyped)
        for product_id in await tx.product_types.products_of(sorted({e.aggregate_id for e in retyped})):
            touched(product_id, latest)
    if changed:
        await project_products(changed, tx)


async def rebuild_catalog(
    *, uow: Uow, progress: Callable[[int, int], None] | None = None, page_size: int = 500
) -> int:
    """Rebuild every product document from the write side, a page per transaction; returns how many.

    No CDN purge is announced: a rebuild is for a new or repaired read store, not for a change."""
    async with uow() as tx:
        product_ids = await tx.products.all_ids()
    for start in range(0, len(product_ids), page_size):
        async with uow() as tx:
            products = await tx.products.get_many(product_ids[start : start + page_size])
            price_lists = await tx.price_lists.for_skus([v.sku for p in products for v in p.variants])
            tree = CategoryTree(await tx.categories.current())
            types = await tx.product_types.get_many(sorted({p.product_type_id for p in products if p.product_type_id}))
            galleries = await tx.galleries.of_products([p.id for p in products])
            await tx.catalog_view.upsert_many([build_document(p, price_lists, tree, types, galleries.get(p.id))
                                               for p in products])
            await tx.commit()
        if progress:
            progress(min(start + page_size, len(product_ids)), len(product_ids))
    return len(product_ids)
