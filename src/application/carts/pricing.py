"""Pricing a cart on read: current list prices, promotions and a tax estimate, computed now.

Nothing here is stored: a price-list change shows on the next read with no write to the cart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from application.carts.errors import UnknownChannel
from application.carts.ports import Adjustment, PromotionEngine, PromotionLine, PromotionRequest
from application.carts.read_models import (
    AdjustmentView,
    CartLineView,
    CartView,
    CouponView,
    StockStatus,
    TaxEstimate,
)
from application.catalog.queries import offers
from application.catalog.read_models import Offer
from application.catalog.snapshot import CatalogReads
from application.inventory.queries import StockStatuses
from domain.carts.cart import Cart, OwnerKind
from domain.inventory.reservation import bundle_status
from domain.shared.money import Money
from domain.tax.rates import STANDARD, RateTable, tax_in, tax_on


@dataclass(frozen=True, slots=True, kw_only=True)
class Channel:
    """A sales channel: its currency, and where and how its prices are taxed for estimates."""

    name: str = "web"
    currency: str = "EUR"
    tax_country: str = "DE"
    tax_region: str | None = None
    prices_include_tax: bool = True
    pay_later: bool = False  # the merchant offers pay-later (manual) payment in this channel

    @property
    def tax_place_region(self) -> str:
        """The region of the channel's tax place as an address carries it ("" for none)."""
        return self.tax_region or ""


SOLD_OUT = "sold out"  # the reason a line gives when its stock cannot be held


class Channels:
    """The configured sales channels; the first is the default."""

    def __init__(self, channels: list[Channel] | None = None) -> None:
        listed = channels or [Channel()]
        self._by_name = {c.name: c for c in listed}
        self.default = listed[0]

    def get(self, name: str | None) -> Channel:
        if name is None:
            return self.default
        try:
            return self._by_name[name]
        except KeyError:
            raise UnknownChannel(f"no sales channel {name!r}") from None

    def find(self, name: str) -> Channel | None:
        return self._by_name.get(name)

    def in_currency(self, currency: str) -> Channel | None:
        """The first channel selling in ``currency`` (the default when it does), or ``None``."""
        if self.default.currency == currency:
            return self.default
        return next((c for c in self._by_name.values() if c.currency == currency), None)

    @classmethod
    def parse(cls, spec: str) -> Channels:
        """``"web:EUR:DE:incl:pay-later,us:USD:US-CA:excl"`` — name, currency, tax country[-region], price
        convention, and ``pay-later`` where the channel offers pay-later (manual) payment."""
        channels = []
        for part in filter(None, (p.strip() for p in spec.split(","))):
            name, currency, place, convention, *flags = part.split(":")
            if set(flags) - {"pay-later"}:
                raise ValueError(f"unknown channel flag in {part!r} (only 'pay-later')")
            country, _, region = place.partition("-")
            channels.append(Channel(name=name, currency=currency, tax_country=country, tax_region=region or None,
                                    prices_include_tax=convention == "incl", pay_later="pay-later" in flags))
        return cls(channels)


def _view(adjustment: Adjustment) -> AdjustmentView:
    return AdjustmentView(
        promotion_id=adjustment.promotion_id, version=adjustment.version, label=adjustment.label,
        amount=adjustment.amount,
    )


def empty_view(channel: Channel) -> CartView:
    return CartView(
        id=None, currency=channel.currency, channel=channel.name, lines=[], coupons=[], order_adjustments=[],
        item_count=0, subtotal=0, discount=0, tax=TaxEstimate(
            amount=0, included=channel.prices_include_tax, country=channel.tax_country, region=channel.tax_region,
        ),
        total=0, version=0, has_issues=False,
    )


async def stock_of(skus: list[str], found: dict[str, Offer], *, statuses: StockStatuses) -> dict[str, StockStatus]:
    """What inventory says of each SKU now, as the payment's stock hold will decide it: a SKU
    that never had stock is sold out unless its policy says backorder or untracked, and a bundle
    (no stock of its own; the hold takes its components) is as available as its scarcest
    component. One query, whatever the SKUs."""
    bundles = {sku: found[sku].components for sku in skus if sku in found and found[sku].components}
    asked = [sku for sku in skus if sku not in bundles]
    asked += sorted({c.sku for components in bundles.values() for c in components} - set(asked))
    known = await statuses(asked) if asked else {}
    return {
        sku: cast(StockStatus, bundle_status([known[c.sku].status for c in bundles[sku]])
                  if sku in bundles else known[sku].status)
        for sku in skus
    }


async def price_cart(
    cart: Cart, *, statuses: StockStatuses, catalog: CatalogReads, promotions: PromotionEngine, channel: Channel,
    rates: RateTable, at: datetime, shipping: int = 0, stock: dict[str, StockStatus] | None = None,
) -> CartView:
    """``stock``: the lines' stock as this request already read it (a cart priced twice reads it once)."""
    skus = cart.skus
    quantities = {line.sku: line.quantity for line in cart.lines}
    found = await offers(skus, currency=cart.currency, channel=cart.channel, at=at, catalog=catalog,
                         quantities=quantities)
    if stock is None or not set(skus) <= set(stock):
        stock = await stock_of(skus, found, statuses=statuses)

    priced: list[PromotionLine] = []
    reasons: dict[str, str | None] = {}
    for line in cart.lines:
        offer = found.get(line.sku)
        reason = None
        if offer is None:
            reason = "no longer sold"
        elif not offer.purchasable or offer.unit_price is None:
            reason = offer.reason or "not purchasable"
        elif stock[line.sku] == "sold_out":
            reason = SOLD_OUT
        reasons[line.id] = reason
        if reason is None and offer is not None and offer.unit_price is not None:
            priced.append(PromotionLine(
                line_id=line.id, sku=line.sku, product_id=offer.product_id, quantity=line.quantity,
                unit_price=offer.unit_price.amount,
            ))

    outcome = await promotions.apply(PromotionRequest(
        cart_id=cart.id, currency=cart.currency, channel=cart.channel,
        customer_id=cart.owner.id if cart.owner.kind is OwnerKind.CUSTOMER else None,
        coupon_codes=tuple(cart.coupon_codes), lines=tuple(priced), at=at, shipping=shipping,
    ))
    unit = {p.line_id: p.unit_price for p in priced}
    line_adjustments: dict[str, list[Adjustment]] = {}
    for adjustment in outcome.adjustments:
        if adjustment.line_id is not None:
            line_adjustments.setdefault(adjustment.line_id, []).append(adjustment)

    views: list[CartLineView] = []
    for line in cart.lines:
        offer = found.get(line.sku)
        price = unit.get(line.id)
        subtotal = price * line.quantity if price is not None else 0
        # A discount never exceeds what it discounts, whatever an engine answers.
        discount = min(sum(a.amount for a in line_adjustments.get(line.id, [])), subtotal)
        changed = price is not None and line.seen_unit_price is not None and line.seen_unit_price != price
        views.append(CartLineView(
            id=line.id, sku=line.sku, product_id=offer.product_id if offer else None,
            name=offer.name if offer else None, quantity=line.quantity, unit_price=price,
            subtotal=subtotal, discount=discount, total=subtotal - discount,
            available=reasons[line.id] is None, stock=stock[line.sku], reason=reasons[line.id],
            price_changed=changed, previous_unit_price=line.seen_unit_price if changed else None,
            adjustments=[_view(a) for a in line_adjustments.get(line.id, [])],
        ))

    subtotal = sum(v.subtotal for v in views)
    after_lines = sum(v.total for v in views)
    order_adjustments = [a for a in outcome.adjustments if a.line_id is None]
    order_discount = min(sum(a.amount for a in order_adjustments), after_lines)
    discount = sum(v.discount for v in views) + order_discount
    tax = _estimate_tax([v.total for v in views if v.available], order_discount, cart.currency, channel, rates)
    total = subtotal - discount + (0 if channel.prices_include_tax else tax)
    applied_codes = {code for code in cart.coupon_codes if code not in outcome.rejected_coupons}
    return CartView(
        id=cart.id, currency=cart.currency, channel=cart.channel, lines=views,
        coupons=[
            CouponView(code=code, applied=code in applied_codes, reason=outcome.rejected_coupons.get(code))
            for code in cart.coupon_codes
        ],
        order_adjustments=[_view(a) for a in order_adjustments],
        item_count=sum(line.quantity for line in cart.lines),
        subtotal=subtotal, discount=discount,
        tax=TaxEstimate(
            amount=tax, included=channel.prices_include_tax, country=channel.tax_country, region=channel.tax_region,
        ),
        total=total, version=cart.version,
        has_issues=any(not v.available or v.price_changed for v in views),
        shipping_discount=min(outcome.shipping_discount, shipping),
        shipping_adjustments=[_view(a) for a in outcome.shipping_adjustments],
    )


def _estimate_tax(
    line_totals: list[int], order_discount: int, currency: str, channel: Channel, rates: RateTable,
) -> int:
    """Tax on what the shopper pays: the order discount is spread over the lines first."""
    rate = rates.rate(country=channel.tax_country, region=channel.tax_region, tax_class=STANDARD)
    if rate is None or not line_totals or sum(line_totals) <= 0:
        return 0
    shares = Money(order_discount, currency).allocate(line_totals) if order_discount else []
    taxable = [total - (shares[i].amount if shares else 0) for i, total in enumerate(line_totals)]
    compute = tax_in if channel.prices_include_tax else tax_on
    return sum(compute(amount, rate) for amount in taxable)
