"""A stored product document priced for one sales channel at one moment: what the shopper's cart in that
channel would charge (``domain.catalog.pricing``, the same functions the cart prices with), the tiers as the
cart applies them, the running sale and its end, and the moment the answer next changes by the clock alone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import msgspec

from application.catalog.read_models import (
    ListPrices,
    PriceRule,
    ProductDocument,
    ProductPage,
    ProductQuery,
    ProductSummary,
    SaleView,
    StoredDocument,
    TierView,
    VariantView,
    price_view,
    summary,
)
from domain.catalog.pricing import Price, PriceList, Sale, Tier, next_change, price_rule, unit_price
from domain.shared.money import Money

_SERVED_FIELDS = ProductDocument.__struct_fields__


@dataclass(frozen=True, slots=True)
class Priced:
    document: ProductDocument
    changes_at: datetime | None  # the first moment after ``at`` when a price shown changes (a sale starts or ends)


def _price(sku: str, rule: PriceRule) -> Price:
    sale = None if rule.sale is None else Sale(amount=rule.sale[0], starts_at=rule.sale[1], ends_at=rule.sale[2])
    return Price(sku=sku, amount=rule.amount, tiers=tuple(Tier(min_quantity=m, amount=a) for m, a in rule.tiers),
                 sale=sale)


def _lists(pricing: list[ListPrices]) -> list[PriceList]:
    return [
        PriceList(id=f"{lp.currency}:{lp.channel or ''}", name="", currency=lp.currency, channel=lp.channel,
                  prices={sku: _price(sku, rule) for sku, rule in lp.prices.items()})
        for lp in pricing
    ]


def _tiers(price: Price, currency: str, at: datetime) -> list[TierView]:
    """The unit price from each tier's quantity on, as the cart charges it (a sale below a tier wins), only where
    it drops: the unit price of ``q`` units is the last tier's at or below ``q``, else the variant's ``price``."""
    views: list[TierView] = []
    last = unit_price(price, 1, at)
    for tier in sorted(price.tiers, key=lambda t: t.min_quantity):
        amount = unit_price(price, tier.min_quantity, at)
        if amount < last:
            views.append(TierView(min_quantity=tier.min_quantity, amount=amount, currency=currency,
                                  display=Money(amount, currency).display()))
            last = amount
    return views


def _variant(view: VariantView, price: Price | None, currency: str, at: datetime) -> VariantView:
    if price is None:
        return msgspec.structs.replace(view, prices=[], sales=[], price=None, regular_price=None, tiers=[], sale=None)
    now = price_view(Money(unit_price(price, 1, at), currency))
    running = price.sale if price.sale is not None and price.sale.is_on(at) else None
    sale = None if running is None else SaleView(
        amount=running.amount, currency=currency, display=Money(running.amount, currency).display(),
        starts_at=running.starts_at.astimezone(at.tzinfo), ends_at=running.ends_at.astimezone(at.tzinfo))
    return msgspec.structs.replace(
        view, prices=[now], sales=[sale] if sale else [], price=now,
        regular_price=price_view(Money(price.amount, currency)), tiers=_tiers(price, currency, at), sale=sale)


def _earliest(moments: list[datetime | None]) -> datetime | None:
    return min((m for m in moments if m is not None), default=None)


def priced_for(document: ProductDocument, *, channel: str | None, currency: str, at: datetime) -> Priced:
    """The document as a shopper of ``channel`` (``None``: the all-channels lists only) sees it at ``at``: every
    price in ``currency``, from the channel's own list where it has the SKU, else the all-channels list; a
    running sale's window in ``at``'s time zone (the shop's, as the storefront asks)."""
    fields = {name: getattr(document, name) for name in _SERVED_FIELDS}
    pricing = document.pricing if isinstance(document, StoredDocument) else None
    if pricing is None:  # a document from before prices were stored with it: as it was (rebuild to price it)
        return Priced(ProductDocument(**fields), None)
    lists = _lists(pricing)
    rules = {v.sku: price_rule(lists, sku=v.sku, currency=currency, channel=channel) for v in document.variants}
    variants = [_variant(v, rules[v.sku], currency, at) for v in document.variants]
    amounts = [v.price.amount for v in variants if v.price is not None]
    served = ProductDocument(**{
        **fields, "variants": variants, "channel": channel, "currency": currency,
        "price_from": [price_view(Money(min(amounts), currency))] if amounts else [],
    })
    return Priced(served, _earliest([next_change(r, at) for r in rules.values() if r is not None]))


def priced_summary(document: ProductDocument, query: ProductQuery) -> tuple[ProductSummary, datetime | None]:
    """A listing's item: priced for the query's channel and moment when it names one, else as stored."""
    if query.at is None:
        return summary(document), None
    priced = priced_for(document, channel=query.channel, currency=query.currency, at=query.at)
    return summary(priced.document), priced.changes_at


def priced_page(documents: list[ProductDocument], query: ProductQuery, next_cursor: str | None) -> ProductPage:
    """A listing page of ``documents``, each priced as ``priced_summary`` says, and when the page next changes."""
    items: list[ProductSummary] = []
    moments: list[datetime | None] = []
    for document in documents:
        item, changes_at = priced_summary(document, query)
        items.append(item)
        moments.append(changes_at)
    return ProductPage(items=items, next_cursor=next_cursor, price_changes_at=_earliest(moments))

