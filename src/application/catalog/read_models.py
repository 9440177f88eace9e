"""Read-side documents returned by catalog queries (serialised by the HTTP layer as they are)."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import msgspec

from application.catalog.attribute_views import AttributeView, ProductTypeRef, typed_attributes
from application.catalog.media_views import MediaView, media_view
from domain.catalog.categories import CategoryTree
from domain.catalog.media import Gallery
from domain.catalog.pricing import PriceList
from domain.catalog.product import Product
from domain.catalog.types import ProductType
from domain.shared.money import Money


class PriceView(msgspec.Struct, frozen=True, kw_only=True):
    amount: int
    currency: str
    display: str


def price_view(money: Money) -> PriceView:
    return _price_view(money.amount, money.currency)


@functools.lru_cache(maxsize=8192)
def _price_view(amount: int, currency: str) -> PriceView:
    """A view is immutable: one per price (a cart of a hundred lines formats a hundred prices per read)."""
    return PriceView(amount=amount, currency=currency, display=Money(amount, currency).display())


class SaleView(msgspec.Struct, frozen=True, kw_only=True):
    amount: int
    currency: str
    display: str
    starts_at: datetime
    ends_at: datetime


class TierView(msgspec.Struct, frozen=True, kw_only=True):
    """From ``min_quantity`` units on, each unit costs ``amount`` (what the cart charges, sale included)."""

    min_quantity: int
    amount: int
    currency: str
    display: str


class OptionView(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    values: list[str]


class ComponentView(msgspec.Struct, frozen=True, kw_only=True):
    sku: str
    quantity: int


class VariantView(msgspec.Struct, frozen=True, kw_only=True):
    sku: str
    option_values: dict[str, str]
    weight_grams: int
    barcode: str | None
    components: list[ComponentView]
    prices: list[PriceView]
    sales: list[SaleView] = []
    availability: str | None = None  # filled by the inventory projection in a later step
    requires_online_payment: bool = False  # pay-later cannot buy it: the storefront says "pay online"
    # Served for one channel (application/catalog/channel_view.py): what one unit costs now in the channel's
    # currency (a running sale applied), the base price, the quantity tiers as the cart charges them, the
    # running sale with its end. ``prices`` then holds ``price`` alone and ``sales`` the running sale.
    price: PriceView | None = None
    regular_price: PriceView | None = None
    tiers: list[TierView] = []
    sale: SaleView | None = None


class CategoryRef(msgspec.Struct, frozen=True, kw_only=True):
    """A category a product is in, itself or through one below it (breadcrumbs, search words)."""

    id: str
    name: str
    slug: str
    parent_id: str | None


class DropSummary(msgspec.Struct, frozen=True, kw_only=True):
    """A drop selling some of a product's SKUs, as the storefront shows it."""

    id: str
    name: str
    phase: str  # upcoming, open, sold_out or ended
    skus: list[str]
    opens_at: str  # ISO 8601, UTC
    opens_at_local: str  # in the drop's time zone
    time_zone: str
    ends_at: str | None
    waiting_room: bool
    per_customer_limit: int | None
    online_payment_only: bool


class ProductDocument(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    slug: str
    name: str
    description: str
    status: str
    options: list[OptionView]
    variants: list[VariantView]
    attributes: dict[str, Any]
    category_ids: list[str]  # the categories it names itself
    media: list[MediaView]
    price_from: list[PriceView]
    version: int
    # Each category it names and every one above them, each path from its root down: its listing pages
    # (a parent category's page lists its sub-categories' products) and its search filters follow these.
    categories: list[CategoryRef] = []
    drops: list[DropSummary] = []  # added when served: the drops selling its SKUs that are not over
    tax_class: str = "standard"  # how its price is taxed: standard, reduced, reduced-2, super-reduced, zero, exempt
    product_type: ProductTypeRef | None = None  # none: untyped, ``attributes`` alone describes it
    attribute_details: list[AttributeView] = []  # a typed product's attributes, in its type's order
    channel: str | None = None  # the sales channel it is priced for (served documents)
    currency: str | None = None  # that channel's currency: every price in it is in this one


class PriceRule(msgspec.Struct, frozen=True, kw_only=True):
    """A SKU's price in one list, as stored: base, tiers (``[min_quantity, amount]``) and sale."""

    amount: int
    tiers: list[tuple[int, int]] = []
    sale: tuple[int, datetime, datetime] | None = None  # amount, starts_at, ends_at


class ListPrices(msgspec.Struct, frozen=True, kw_only=True):
    """The prices of a product's SKUs in one price list (one currency, one channel or all)."""

    currency: str
    channel: str | None
    prices: dict[str, PriceRule]


class StoredDocument(ProductDocument, frozen=True, kw_only=True):
    """What the projection stores: the document, and the prices of its SKUs in every list, from which each
    channel's page is priced when served (sales start and end by the clock, so that happens at reading)."""

    pricing: list[ListPrices] | None = None  # None: stored before prices were (served as stored until rebuilt)


class Offer(msgspec.Struct, frozen=True, kw_only=True):
    """What a cart needs to know about a SKU right now."""

    sku: str
    product_id: str
    name: str
    unit_price: PriceView | None
    purchasable: bool
    reason: str | None = None
    components: list[ComponentView] = []  # a bundle's: inventory holds these, not the bundle SKU


class ProductSummary(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    slug: str
    name: str
    price_from: list[PriceView]
    media: list[MediaView]


class ProductPage(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    items: list[ProductSummary]
    next_cursor: str | None
    # When a price on the page next changes by the clock (a sale starts or ends): caches keep it no longer.
    price_changes_at: datetime | None = None


class ProductQuery(msgspec.Struct, frozen=True, kw_only=True):
    """A category page or listing: filters, a sort and a keyset cursor."""

    category_id: str | None = None
    attributes: dict[str, str] = {}
    currency: str = "EUR"
    min_price: int | None = None
    max_price: int | None = None
    sort: str = "newest"  # newest | name | price_asc | price_desc
    limit: int = 24
    cursor: str | None = None
    # Priced for a channel at a moment (``price_from`` of the items as its cart charges then); without
    # ``at``, the stored all-channels ``price_from``.
    channel: str | None = None
    at: datetime | None = None


def summary(document: ProductDocument) -> ProductSummary:
    return ProductSummary(id=document.id, slug=document.slug, name=document.name, price_from=document.price_from,
                          media=document.media[:1])


def category_refs(category_ids: tuple[str, ...], tree: CategoryTree) -> list[CategoryRef]:
    """The categories ``category_ids`` name and all above them, once each, each path from its root down."""
    found: dict[str, CategoryRef] = {}
    for category_id in category_ids:
        for c in tree.path(category_id):
            found.setdefault(c.id, CategoryRef(id=c.id, name=c.name, slug=c.slug, parent_id=c.parent_id))
    return list(found.values())


def _pricing(product: Product, price_lists: list[PriceList]) -> list[ListPrices]:
    skus = [v.sku for v in product.variants]
    found = []
    for pl in sorted(price_lists, key=lambda p: (p.currency, p.channel or "")):
        prices = {
            sku: PriceRule(amount=price.amount, tiers=[(t.min_quantity, t.amount) for t in price.tiers],
                           sale=(price.sale.amount, price.sale.starts_at, price.sale.ends_at) if price.sale else None)
            for sku in skus if (price := pl.prices.get(sku)) is not None
        }
        if prices:
            found.append(ListPrices(currency=pl.currency, channel=pl.channel, prices=prices))
    return found


def build_document(product: Product, price_lists: list[PriceList], tree: CategoryTree | None = None,
                   types: Mapping[str, ProductType] | None = None, gallery: Gallery | None = None) -> StoredDocument:
    """The storefront document of a product as its write side, generic price lists, category tree, product
    types (by id) and gallery say now: its uploaded images that are ready, in the gallery's order, then any
    typed-in URLs."""
    generic = sorted((p for p in price_lists if p.channel is None), key=lambda p: p.currency)
    variants = []
    for variant in product.variants:
        prices = [
            price_view(Money(pl.prices[variant.sku].amount, pl.currency))
            for pl in generic if variant.sku in pl.prices
        ]
        sales = [
            SaleView(amount=sale.amount, currency=pl.currency, display=Money(sale.amount, pl.currency).display(),
                     starts_at=sale.starts_at, ends_at=sale.ends_at)
            for pl in generic if variant.sku in pl.prices and (sale := pl.prices[variant.sku].sale) is not None
        ]
        variants.append(
            VariantView(
                sku=variant.sku, option_values=dict(variant.option_values), weight_grams=variant.weight_grams,
                barcode=variant.barcode, prices=prices, sales=sales,
                components=[ComponentView(sku=c.sku, quantity=c.quantity) for c in variant.components],
                requires_online_payment=variant.requires_online_payment,
            )
        )
    lowest: dict[str, int] = {}
    for view in variants:
        for price in view.prices:
            lowest[price.currency] = min(lowest.get(price.currency, price.amount), price.amount)
    attributes: dict[str, Any] = {k: list(v) if isinstance(v, tuple) else v for k, v in product.attributes.items()}
    product_type, details = typed_attributes(product, types or {})
    return StoredDocument(
        id=product.id, slug=product.slug, name=product.name, description=product.description,
        status=product.status.value, options=[OptionView(name=o.name, values=list(o.values)) for o in product.options],
        variants=variants, attributes=attributes, category_ids=list(product.category_ids),
        categories=category_refs(product.category_ids, tree or CategoryTree()),
        media=[*(media_view(i) for i in (gallery.shown() if gallery else [])),
               *(MediaView(url=m.url, alt=m.alt) for m in product.media)],
        price_from=[price_view(Money(amount, currency)) for currency, amount in sorted(lowest.items())],
        version=product.version, tax_class=product.tax_class, product_type=product_type, attribute_details=details,
        pricing=_pricing(product, price_lists),
    )
