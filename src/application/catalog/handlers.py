"""Catalog command handlers (the product-document projection is in ``projection``, the reads in ``queries``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from application.catalog.commands import (
    AddOptionValue,
    AddVariant,
    CreatePriceList,
    CreateProduct,
    EditPrices,
    PriceChange,
    PriceSpec,
    SaleSpec,
    SetPrices,
    UpdateProduct,
    UpdateVariant,
    VariantSpec,
)
from application.catalog.errors import (
    ChannelCurrencyMismatch,
    NestedBundle,
    PriceRulesWouldBeLost,
    UnknownCategories,
    UnknownSalesChannel,
)
from application.catalog.ports import CatalogUnitOfWork, SalesChannels
from application.messaging.registry import handler
from application.messaging.retry import expect_version
from application.ports.clock import Clock, IdGenerator
from domain.catalog.pricing import Keep, Price, PriceEdit, PriceList, Sale, Tier
from domain.catalog.product import (
    CatalogError,
    Component,
    Media,
    Option,
    Product,
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
    async with uow() as tx:
        product = Product.create(
            id=ids.new_id(), name=cmd.name, slug=cmd.slug, description=cmd.description, now=now, status=status,
            options=tuple(Option(name=n, values=tuple(v)) for n, v in cmd.options), variants=tuple(variants),
            attributes=dict(cmd.attributes), media=tuple(Media(url=u, alt=a) for u, a in cmd.media),
            category_ids=tuple(dict.fromkeys(cmd.category_ids)), tax_class=cmd.tax_class,
            product_type=await tx.product_types.held(cmd.product_type_id) if cmd.product_type_id else None,
        )
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
        # The type its attributes are checked against: a new one, or its own when they change.
        type_id = None if cmd.untyped else cmd.product_type_id or (
            product.product_type_id if cmd.attributes is not None else None)
        if cmd.untyped or any(v is not None for v in (cmd.name, cmd.slug, cmd.description, cmd.attributes,
                                                      cmd.media, cmd.category_ids, cmd.tax_class, type_id)):
            product.revise(
                now=now, name=cmd.name, slug=cmd.slug, description=cmd.description, attributes=cmd.attributes,
                media=tuple(Media(url=u, alt=a) for u, a in cmd.media) if cmd.media is not None else None,
                category_ids=tuple(dict.fromkeys(cmd.category_ids)) if cmd.category_ids is not None else None,
                tax_class=cmd.tax_class, untyped=cmd.untyped,
                product_type=await tx.product_types.held(type_id) if type_id else None,
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
async def create_price_list(cmd: CreatePriceList, *, uow: Uow, ids: IdGenerator, channels: SalesChannels) -> str:
    if cmd.channel is not None:
        # A list for a channel no cart is ever in would price nothing, silently; so would one in a currency
        # other than its channel's (a channel's carts are in its currency).
        channel = channels.find(cmd.channel)
        if channel is None:
            raise UnknownSalesChannel(cmd.channel)
        if channel.currency != cmd.currency:
            raise ChannelCurrencyMismatch(f"channel {cmd.channel!r} sells in {channel.currency}, not {cmd.currency}")
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
        now = clock.now()
        losing = [spec.sku for spec in cmd.prices if _loses_rules(price_list.prices.get(spec.sku), spec, now)]
        if losing:
            raise PriceRulesWouldBeLost(losing)
        price_list.set_prices(prices, now=now)
        await tx.price_lists.save(price_list)
        await tx.commit()
    return price_list.version


def _loses_rules(stored: Price | None, spec: PriceSpec, now: datetime) -> bool:
    """Whether replacing ``stored`` with ``spec`` would drop tiers or a sale (not yet ended) the client left out."""
    if stored is None:
        return False
    return ("tiers" in spec.omitted and bool(stored.tiers)) or (
        "sale" in spec.omitted and stored.sale is not None and stored.sale.ends_at > now)


def _edit(change: PriceChange) -> PriceEdit:
    def sale(spec: SaleSpec | None) -> Sale | None:
        return None if spec is None else Sale(amount=spec.amount, starts_at=spec.starts_at, ends_at=spec.ends_at)

    return PriceEdit(
        sku=change.sku, amount=change.amount,
        tiers=change.tiers if isinstance(change.tiers, Keep)
        else tuple(Tier(min_quantity=m, amount=a) for m, a in change.tiers or ()),
        sale=change.sale if isinstance(change.sale, Keep) else sale(change.sale),
    )


@handler
async def edit_prices(cmd: EditPrices, *, uow: Uow, clock: Clock) -> int:
    edits = [_edit(change) for change in cmd.changes]
    skus = [e.sku for e in edits]
    if len(set(skus)) != len(skus):
        raise CatalogError("name each SKU once")
    async with uow() as tx:
        price_list = await tx.price_lists.get(cmd.price_list_id, skus=skus)
        unknown = set(skus) - await tx.products.existing_skus(skus)
        if unknown:
            raise NotFound(f"no variant with SKU {', '.join(sorted(unknown))}")
        price_list.edit_prices(edits, now=clock.now())
        await tx.price_lists.save(price_list)
        await tx.commit()
    return price_list.version
