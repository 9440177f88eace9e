"""Catalog command handlers and the product-document projection (the reads are in ``queries``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from application.catalog.cdn import product_keys
from application.catalog.commands import (
    AddOptionValue,
    AddVariant,
    CreatePriceList,
    CreateProduct,
    PriceSpec,
    SetPrices,
    UpdateProduct,
    UpdateVariant,
    VariantSpec,
)
from application.catalog.errors import NestedBundle, UnknownCategories
from application.catalog.events import ProductDocumentChanged
from application.catalog.ports import CatalogUnitOfWork
from application.catalog.read_models import build_document
from application.messaging.registry import handler
from application.messaging.retry import expect_version
from application.ports.clock import Clock, IdGenerator
from domain.catalog.categories import CategoryTree, CategoryTreeChanged
from domain.catalog.pricing import Price, PriceList, PriceListChanged, Sale, Tier
from domain.catalog.product import (
    CatalogError,
    Component,
    Media,
    Option,
    Product,
    ProductSaved,
    ProductStatus,
    Variant,
)
from domain.shared.errors import NotFound
from domain.shared.money import Money

Uow = Callable[[], CatalogUnitOfWork]


def _variant(spec: VariantSpec) -> Variant:
    return Variant(
        sku=spec.sku, option_values=dict(spec.option_values), weight_grams=spec.weight_grams, barcode=spec.barcode,
        components=tuple(Component(sku=s, quantity=q) for s, q in spec.components),
        requires_online_payment=spec.requires_online_payment,
    )


def _status(value: str) -> ProductStatus:
    try:
        return ProductStatus(value)
    except ValueError:
        raise CatalogError(f"unknown status {value!r}") from None


def _price(spec: PriceSpec) -> Price:
    sale = None
    if spec.sale_amount is not None:
        if spec.sale_starts_at is None or spec.sale_ends_at is None:
            raise CatalogError(f"{spec.sku}: a sale needs a start and an end")
        sale = Sale(amount=spec.sale_amount, starts_at=spec.sale_starts_at, ends_at=spec.sale_ends_at)
    return Price(sku=spec.sku, amount=spec.amount, tiers=tuple(Tier(min_quantity=m, amount=a) for m, a in spec.tiers),
                 sale=sale)


async def _check_components(tx: CatalogUnitOfWork, variants: list[Variant]) -> None:
    """Every component exists and is no bundle itself (a variant's components never change once it
    exists, so a component cannot become a bundle later)."""
    wanted = sorted({c.sku for v in variants for c in v.components})
    if not wanted:
        return
    missing = set(wanted) - await tx.products.existing_skus(wanted)
    if missing:
        raise CatalogError(f"bundle components do not exist: {', '.join(sorted(missing))}")
    nested = await tx.products.bundles_among(wanted)
    if nested:
        raise NestedBundle(f"a bundle cannot hold another bundle: {', '.join(sorted(nested))}")


async def _check_categories(tx: CatalogUnitOfWork, category_ids: list[str]) -> None:
    """Every category named exists, and stays until this transaction ends (``known`` holds the tree)."""
    if not category_ids:
        return
    known = await tx.categories.known(category_ids)
    unknown = [c for c in dict.fromkeys(category_ids) if c not in known]
    if unknown:
        raise UnknownCategories(unknown)


@handler
async def create_product(cmd: CreateProduct, *, uow: Uow, clock: Clock, ids: IdGenerator) -> str:
    simple = cmd.sku is not None
    if simple and (cmd.variants or cmd.options):
        raise CatalogError("give either a sku (simple product) or options and variants, not both")
    if (cmd.price_amount is None) != (cmd.currency is None):
        raise CatalogError("a price needs both an amount and a currency")
    if cmd.price_amount is not None and not simple:
        raise CatalogError("price variants through a price list")
    price = Money(cmd.price_amount, cmd.currency) if cmd.price_amount is not None and cmd.currency else None
    variants = [Variant(sku=cmd.sku)] if cmd.sku is not None else [_variant(v) for v in cmd.variants]
    status = _status(cmd.status) if cmd.status else (ProductStatus.ACTIVE if simple else ProductStatus.DRAFT)
    now = clock.now()
    product = Product.create(
        id=ids.new_id(), name=cmd.name, slug=cmd.slug, description=cmd.description, now=now, status=status,
        options=tuple(Option(name=n, values=tuple(v)) for n, v in cmd.options), variants=tuple(variants),
        attributes=dict(cmd.attributes), media=tuple(Media(url=u, alt=a) for u, a in cmd.media),
        category_ids=tuple(dict.fromkeys(cmd.category_ids)),
        tax_class=cmd.tax_class,
    )
    async with uow() as tx:
        await _check_components(tx, variants)
        await _check_categories(tx, cmd.category_ids)
        await tx.products.add(product)
        if price is not None and cmd.sku is not None:
            if price.amount < 0:
                raise CatalogError("a price cannot be negative")
            price_list = await tx.price_lists.default_for(price.currency)
            if price_list is None:
                price_list = PriceList(id=ids.new_id(), name=f"Default {price.currency}", currency=price.currency)
                price_list.set_prices([Price(sku=cmd.sku, amount=price.amount)], now=now)
                await tx.price_lists.add(price_list)
            else:
                price_list.set_prices([Price(sku=cmd.sku, amount=price.amount)], now=now)
                await tx.price_lists.save(price_list)
        await tx.commit()
    return product.id


async def _change_product(
    uow: Uow, product_id: str, change: Callable[[CatalogUnitOfWork, Product], Awaitable[None]],
    *, expected_version: int | None = None,
) -> int:
    """Load, change through the aggregate, save optimistically, commit; the new version. ``expected_version``
    is the client's (If-Match style): checked against the version loaded."""
    async with uow() as tx:
        product = await tx.products.get(product_id)
        expect_version(product, expected_version, what="product")
        await change(tx, product)
        await tx.products.save(product)
        await tx.commit()
    return product.version


@handler
async def update_product(cmd: UpdateProduct, *, uow: Uow, clock: Clock) -> int:
    now = clock.now()

    async def change(tx: CatalogUnitOfWork, product: Product) -> None:
        if cmd.category_ids is not None:
            await _check_categories(tx, cmd.category_ids)
        if any(v is not None for v in (cmd.name, cmd.slug, cmd.description, cmd.attributes, cmd.media,
                                       cmd.category_ids, cmd.tax_class)):
            product.revise(
                now=now, name=cmd.name, slug=cmd.slug, description=cmd.description, attributes=cmd.attributes,
                media=tuple(Media(url=u, alt=a) for u, a in cmd.media) if cmd.media is not None else None,
                category_ids=tuple(dict.fromkeys(cmd.category_ids)) if cmd.category_ids is not None else None,
                tax_class=cmd.tax_class,
            )
        if cmd.status is not None:
            product.change_status(_status(cmd.status), now=now)

    return await _change_product(uow, cmd.product_id, change, expected_version=cmd.expected_version)


@handler
async def add_variant(cmd: AddVariant, *, uow: Uow, clock: Clock) -> int:
    variant = _variant(cmd.variant)

    async def change(tx: CatalogUnitOfWork, product: Product) -> None:
        await _check_components(tx, [variant])
        product.add_variant(variant, now=clock.now())

    return await _change_product(uow, cmd.product_id, change)


@handler
async def add_option_value(cmd: AddOptionValue, *, uow: Uow, clock: Clock) -> int:
    async def change(_: CatalogUnitOfWork, product: Product) -> None:
        product.add_option_value(cmd.option, cmd.value, now=clock.now())

    return await _change_product(uow, cmd.product_id, change)


@handler
async def update_variant(cmd: UpdateVariant, *, uow: Uow, clock: Clock) -> int:
    async def change(_: CatalogUnitOfWork, product: Product) -> None:
        product.update_variant(cmd.sku, weight_grams=cmd.weight_grams, barcode=cmd.barcode,
                               requires_online_payment=cmd.requires_online_payment, now=clock.now())

    return await _change_product(uow, cmd.product_id, change)


@handler
async def create_price_list(cmd: CreatePriceList, *, uow: Uow, ids: IdGenerator) -> str:
    price_list = PriceList(id=ids.new_id(), name=cmd.name, currency=cmd.currency, channel=cmd.channel)
    async with uow() as tx:
        await tx.price_lists.add(price_list)
        await tx.commit()
    return price_list.id


@handler
async def set_prices(cmd: SetPrices, *, uow: Uow, clock: Clock) -> int:
    prices = [_price(spec) for spec in cmd.prices]
    async with uow() as tx:
        price_list = await tx.price_lists.get(cmd.price_list_id, skus=[p.sku for p in prices])
        unknown = {p.sku for p in prices} - await tx.products.existing_skus([p.sku for p in prices])
        if unknown:
            raise NotFound(f"no variant with SKU {', '.join(sorted(unknown))}")
        price_list.set_prices(prices, now=clock.now())
        await tx.price_lists.save(price_list)
        await tx.commit()
    return price_list.version


# The projection: rebuilt from the write side under a per-product lock, so replays, reordering
# and concurrent projectors all converge on the current truth (and equal a full rebuild).


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
    documents = {p.id: build_document(p, price_lists, tree) for p in products}
    written = await tx.catalog_view.upsert_changed(list(documents.values()))
    for product_id in written:
        if (moment := changed[product_id]) is not None:
            document = documents[product_id]
            keys = product_keys(product_id, [c.id for c in document.categories])
            tx.record(ProductDocumentChanged(aggregate_id=product_id, aggregate_version=document.version,
                                             occurred_at=moment, surrogate_keys=tuple(keys)))
    return written


async def project_catalog_events(
    events: list[ProductSaved | PriceListChanged | CategoryTreeChanged], tx: CatalogUnitOfWork,
) -> None:
    """Consumer of a burst of product saves, price changes and category changes: every product they touch,
    projected once (a renamed, moved or deleted category touches the products in it and below it).

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
            await tx.catalog_view.upsert_many([build_document(p, price_lists, tree) for p in products])
            await tx.commit()
        if progress:
            progress(min(start + page_size, len(product_ids)), len(product_ids))
    return len(product_ids)
