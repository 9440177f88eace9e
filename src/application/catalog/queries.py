"""The catalog's published reads: what other contexts (carts, checkout, promotions) and the HTTP
layer may ask of the catalog. Writes stay in ``handlers`` and reach the catalog through the bus."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from application.catalog.channel_view import Priced, priced_for
from application.catalog.listing import check_query
from application.catalog.ports import CatalogUnitOfWork, ProductReads
from application.catalog.read_models import ComponentView, Offer, ProductDocument, ProductPage, ProductQuery, price_view
from application.catalog.snapshot import CatalogReads
from domain.catalog.pricing import resolve_price
from domain.catalog.product import ProductStatus

Uow = Callable[[], CatalogUnitOfWork]
Reads = Callable[[], ProductReads]


async def product_by_slug(slug: str, *, uow: Uow) -> ProductDocument | None:
    """The storefront's view: only active products exist for shoppers."""
    async with uow() as tx:
        document = await tx.catalog_view.product_by_slug(slug)
    return document if document is not None and document.status == ProductStatus.ACTIVE.value else None


async def product_for_channel(
    slug: str, *, uow: Uow, channel: str | None, currency: str, at: datetime,
) -> Priced | None:
    """The storefront's product page for a shopper of ``channel`` at ``at``: priced as that channel's cart
    charges (``offers``), with when that changes by the clock (a sale starting or ending)."""
    document = await product_by_slug(slug, uow=uow)
    return None if document is None else priced_for(document, channel=channel, currency=currency, at=at)


async def offers(
    skus: list[str], *, currency: str, channel: str | None, at: datetime, catalog: CatalogReads,
    quantities: dict[str, int] | None = None,
) -> dict[str, Offer]:
    """Current price and sellability of each SKU (the cart and checkout call this on every read)."""
    kept = await catalog.lookup(skus)
    # Only lists in the currency, of the channel or of all channels, can price anything here.
    price_lists = [p for p in kept.price_lists if p.currency == currency and p.channel in (channel, None)]
    wanted = set(skus)
    found: dict[str, Offer] = {}
    for product in kept.products:
        for variant in product.variants:
            if variant.sku not in wanted:
                continue
            price = resolve_price(price_lists, sku=variant.sku, currency=currency, channel=channel,
                                  quantity=(quantities or {}).get(variant.sku, 1), at=at)
            reason = None
            if product.status is not ProductStatus.ACTIVE:
                reason = f"product is {product.status.value}"
            elif price is None:
                reason = f"no price in {currency}"
            found[variant.sku] = Offer(
                sku=variant.sku, product_id=product.id, name=product.name,
                unit_price=price_view(price) if price else None, purchasable=reason is None, reason=reason,
                components=[ComponentView(sku=c.sku, quantity=c.quantity) for c in variant.components],
            )
    return found


async def list_products(query: ProductQuery, *, uow: Uow) -> ProductPage:
    check_query(query)
    async with uow() as tx:
        return await tx.catalog_view.list_products(query)


async def bundle_components(skus: list[str], *, catalog: CatalogReads) -> dict[str, list[tuple[str, int]]]:
    """For each bundle among ``skus``, its components and quantities (inventory holds those)."""
    products = (await catalog.lookup(skus)).products
    wanted = set(skus)
    return {
        v.sku: [(c.sku, c.quantity) for c in v.components]
        for p in products for v in p.variants if v.sku in wanted and v.is_bundle
    }


async def requiring_online_payment(skus: list[str], *, catalog: CatalogReads) -> list[str]:
    """The SKUs among ``skus`` that only an online payment may buy (never pay-later): the variant says so,
    or it is a bundle one of whose components does (a pay-later order would hold that component)."""
    variants = {v.sku: v for p in (await catalog.lookup(skus)).products for v in p.variants}
    parts = sorted({c.sku for sku in skus if sku in variants for c in variants[sku].components} - set(variants))
    if parts:
        variants.update({v.sku: v for p in (await catalog.lookup(parts)).products for v in p.variants})

    def online_only(sku: str) -> bool:
        variant = variants.get(sku)
        return variant is not None and (variant.requires_online_payment or any(
            c.sku in variants and variants[c.sku].requires_online_payment for c in variant.components))

    return sorted({sku for sku in skus if online_only(sku)})


async def tax_classes(skus: list[str], *, catalog: CatalogReads) -> dict[str, str]:
    """The tax class of each SKU: its product's (a bundle is taxed as the bundle product says)."""
    products = (await catalog.lookup(skus)).products
    wanted = set(skus)
    return {v.sku: p.tax_class for p in products for v in p.variants if v.sku in wanted}


async def variant_weights(skus: list[str], *, catalog: CatalogReads) -> dict[str, int]:
    """Shipping weight in grams of each SKU (checkout quotes weight-banded rates with it); a bundle weighs
    what its components weigh, each times its quantity (components are never bundles themselves)."""
    variants = {v.sku: v for p in (await catalog.lookup(skus)).products for v in p.variants}
    parts = sorted({c.sku for sku in skus if sku in variants for c in variants[sku].components} - set(variants))
    if parts:
        variants.update({v.sku: v for p in (await catalog.lookup(parts)).products for v in p.variants})

    def weight(sku: str) -> int:
        variant = variants[sku]
        if not variant.is_bundle:
            return variant.weight_grams
        return sum(variants[c.sku].weight_grams * c.quantity for c in variant.components if c.sku in variants)

    return {sku: weight(sku) for sku in skus if sku in variants}
