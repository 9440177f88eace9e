"""Payment start: price the cart for the address, freeze it in a snapshot, and hold the stock."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import asdict, replace

from application.carts.ports import CartStore, PromotionEngine
from application.carts.pricing import SOLD_OUT, Channel, Channels, price_cart
from application.carts.read_models import CartLineView, CartView
from application.catalog.queries import bundle_components, requiring_online_payment, tax_classes
from application.catalog.snapshot import CatalogReads
from application.checkout.commands import StartPayment
from application.checkout.common import (
    NO_ESTIMATE,
    Uow,
    load_checkout,
    parcel_of,
    priced_cart,
    release_hold,
    view,
)
from application.checkout.errors import CartHasIssues, UnknownPaymentProvider
from application.checkout.ports import CheckoutUnitOfWork, ShippingRates, Taxable, TaxCalculator
from application.checkout.read_models import CheckoutView
from application.drops.admission import AdmissionTokens, admission_needed, holder_of
from application.drops.errors import AdmissionRefused
from application.drops.limits import buyer_caps
from application.drops.limits import online_only as drop_online_only
from application.drops.live import LiveDrops
from application.inventory.api import reserve
from application.inventory.batching import ReservationBatcher
from application.inventory.ports import StockGate
from application.inventory.queries import StockStatuses
from application.messaging.registry import Dispatch, handler
from application.payments.pay_later import PAY_LATER, PayLater, check_pay_later
from application.ports.clock import Clock
from application.ports.payments import PaymentGateway
from application.ports.rate_limit import RateLimiter
from domain.checkout.checkout import Checkout, CheckoutIncomplete, Snapshot
from domain.giftcards.giftcard import GiftCardError
from domain.inventory.errors import OutOfStock
from domain.shipping.rates import MethodNotOffered
from domain.tax.discounts import tax_bases
from domain.tax.rates import STANDARD


@handler
async def start_payment(
    command: StartPayment, *, uow: Uow, statuses: StockStatuses, catalog: CatalogReads, cart_store: CartStore,
    promotions: PromotionEngine,
    channels: Channels,
    shipping: ShippingRates, tax: TaxCalculator, gateways: Mapping[str, PaymentGateway], clock: Clock,
    dispatch: Dispatch, reservation_ttl: int, pay_later: PayLater, limiter: RateLimiter, gate: StockGate,
    batcher: ReservationBatcher, drops: LiveDrops, admissions: AdmissionTokens, drop_hold_ttl: int,
) -> CheckoutView:
    """Price the cart for the address, freeze it, and hold the stock. Nothing is charged yet. A SKU
    a drop sells is held within the drop's purchase limit for this buyer, paid online if the drop says
    so, and held for ``drop_hold_ttl`` seconds at most (a hold left by a buyer who walks away keeps the
    room's next shoppers out until it lapses); behind a drop's waiting room, only with the admission it
    gave this shopper, used by this checkout alone."""
    if command.provider not in gateways:
        raise UnknownPaymentProvider(f"unknown payment provider {command.provider!r}")
    checkout = await load_checkout(uow, command.owner, command.checkout_id)
    if checkout.next_step not in ("payment", "place"):
        raise CheckoutIncomplete(f"the {checkout.next_step} step is missing")
    now = clock.now()
    cart, priced = await priced_cart(checkout, store=cart_store, statuses=statuses, catalog=catalog,
                                     promotions=promotions,
                                     channels=channels, at=now)
    unavailable = [line for line in priced.lines if not line.available]
    if unavailable and all(line.reason == SOLD_OUT for line in unavailable):
        raise OutOfStock(sorted({line.sku for line in unavailable}))  # what the stock hold would answer
    if unavailable:
        raise CartHasIssues("some cart lines are unavailable; review the cart")
    channel = channels.get(checkout.channel)
    components = await bundle_components([line.sku for line in priced.lines], catalog=catalog)
    holds: list[tuple[str, int]] = []
    for line in priced.lines:
        for sku, per_unit in components.get(line.sku, [(line.sku, 1)]):
            holds.append((sku, per_unit * line.quantity))
    selling = await drops.selling({line.sku for line in priced.lines} | {sku for sku, _ in holds}, at=now)
    admission = admission_needed(selling, [line.sku for line in priced.lines], token=command.admission,
                                 holder=holder_of(checkout.owner), admissions=admissions, now=now)
    if admission is not None:
        async with uow() as tx:
            used_by = await tx.tickets.used_by(admission.ticket_id)
        if used_by not in (None, checkout.id):
            raise AdmissionRefused(admission.drop_id, "this admission was used by another checkout: it is good "
                                                      "for one")
    if command.provider == PAY_LATER:
        online_only = await requiring_online_payment([line.sku for line in priced.lines], catalog=catalog)
        online_only = sorted(set(online_only) | drop_online_only(selling, [line.sku for line in priced.lines]))
        await check_pay_later(pay_later, channel=channel, owner=checkout.owner, email=checkout.email,
                              units=sum(line.quantity for line in priced.lines), uow=uow, limiter=limiter,
                              client_ip=command.client_ip, online_only=online_only)
    parcel = await parcel_of(checkout, priced, catalog)
    option = next((o for o in await shipping.options(**parcel) if o.method.id == checkout.shipping_method), None)
    if option is None:
        raise MethodNotOffered("the chosen shipping method is no longer offered for this cart; choose again")
    # Priced again with the shipping price known: free or discounted shipping is a promotion too.
    priced = await price_cart(cart, statuses=statuses, catalog=catalog, promotions=promotions, channel=channel,
                              rates=NO_ESTIMATE, at=now, shipping=option.amount,
                              stock={line.sku: line.stock for line in priced.lines})
    classes = await tax_classes([line.sku for line in priced.lines], catalog=catalog)
    snapshot = await _snapshot(priced, cart.version, option.amount, option.method.id, checkout, channel, tax,
                               classes)
    if command.gift_card and snapshot.total > 0:
        snapshot = await _with_gift_card(uow, snapshot, command.gift_card, checkout.currency)

    caps = buyer_caps(selling, [sku for sku, _ in holds], owner=checkout.owner, email=checkout.email,
                      address=checkout.shipping_address)
    # One hold per payment attempt, written in one transaction with the checkout that pays with it:
    # the hold and the payment step commit together or not at all. The previous hold is released once
    # this attempt is saved (a concurrent place or a second start_payment that wins keeps its own).
    fresh = [copy.deepcopy(checkout)]  # the stock locks are held while ``record`` runs: no copy made there
    paying: list[Checkout] = []

    async def record(tx: CheckoutUnitOfWork, reservation_id: str) -> None:
        current = fresh.pop() if fresh else copy.deepcopy(checkout)  # a group retried one by one: again
        tx.checkouts.track(current)  # priced as loaded above: a save since makes this one conflict
        current.begin_payment(provider=command.provider, snapshot=snapshot, reservation_id=reservation_id,
                              now=now)
        await tx.checkouts.save(current)
        if admission is not None:
            await tx.tickets.use(admission.ticket_id, checkout.id)  # one checkout per admission, or none
        paying[:] = [current]

    previous = checkout.reservation_id
    reservation_id = await reserve(
        f"{checkout.id}:{checkout.version}", holds, gate=gate, batcher=batcher, uow=uow,
        reservation_ttl=min(reservation_ttl, drop_hold_ttl) if selling else reservation_ttl, then=record, caps=caps,
        replaces=previous,
    )
    if previous and previous != reservation_id:
        await release_hold(dispatch, previous)  # paying again after a change: the old hold goes back
    return view(paying[0])


async def _snapshot(priced: CartView, cart_version: int, shipping_amount: int, method_id: str,
                    checkout: Checkout, channel: Channel, tax: TaxCalculator, classes: dict[str, str]) -> Snapshot:
    """The order as it will be charged. The channel says how its prices were entered (with its own
    country's tax in them, or without); the destination says how a shopper there is charged (European
    VAT inside the prices, US sales tax on top). Where the two differ, every amount is first turned into
    the destination's convention: the channel's tax taken out of a gross price, or the destination's
    added to a net one."""
    address = checkout.shipping_address
    assert address is not None
    lines = [line for line in priced.lines if line.available]
    count = len(lines)
    # Order-level discounts are spread over lines, so each line's tax base is what is really paid.
    order_discount = priced.discount - sum(line.discount for line in lines)
    bases = tax_bases([line.total for line in lines], order_discount, priced.currency)
    line_classes = [classes[line.sku] for line in lines]  # an available line's product was found
    units = [_unit_price(line) for line in lines]
    discounts = [lines[n].subtotal - bases[n] for n in range(count)]
    shipping_amount -= priced.shipping_discount
    destination = await tax.destination(country=address.country, region=address.region)
    included = destination.prices_include_tax
    if included != channel.prices_include_tax:
        amounts = [*((units[n], line_classes[n]) for n in range(count)),
                   *((discounts[n], line_classes[n]) for n in range(count)), (shipping_amount, STANDARD)]
        converted = await _in_convention(amounts, included=included, channel=channel, country=address.country,
                                         region=address.region, tax=tax)
        units, discounts, shipping_amount = converted[:count], converted[count:-1], converted[-1]
    subtotals = [units[n] * lines[n].quantity for n in range(count)]
    totals = [subtotals[n] - discounts[n] for n in range(count)]
    taxables = [Taxable(applies_to=lines[n].id, amount=totals[n], tax_class=line_classes[n]) for n in range(count)]
    if shipping_amount:
        taxables.append(Taxable(applies_to="shipping", amount=shipping_amount))
    tax_lines = await tax.calculate(taxables, country=address.country, region=address.region,
                                    prices_include_tax=included)
    tax_by_item = {t.applies_to: t.amount for t in tax_lines}  # one line for each item, 0 % ones included
    tax_total = sum(t.amount for t in tax_lines)
    goods = sum(totals)
    total = goods + shipping_amount + (0 if included else tax_total)
    return Snapshot(
        cart_version=cart_version,
        lines=tuple({
            "id": line.id, "sku": line.sku, "product_id": line.product_id, "name": line.name,
            "quantity": line.quantity, "unit_price": units[n], "subtotal": subtotals[n],
            "discount": discounts[n], "tax": tax_by_item[line.id], "total": totals[n],
            "promotions": [{"promotion_id": a.promotion_id, "version": a.version, "amount": a.amount}
                           for a in line.adjustments],
        } for n, line in enumerate(lines)),
        tax_lines=tuple(asdict(t) for t in tax_lines),
        subtotal=sum(subtotals), discount=sum(discounts),
        shipping=shipping_amount, tax=tax_total, total=total, prices_include_tax=included,
        shipping_method=method_id,
        coupon_codes=tuple(c.code for c in priced.coupons if c.applied),
        shipping_promotions=tuple({"promotion_id": a.promotion_id, "version": a.version, "amount": a.amount}
                                  for a in priced.shipping_adjustments),
    )


def _unit_price(line: CartLineView) -> int:
    assert line.unit_price is not None  # an available line is priced
    return line.unit_price


async def _in_convention(
    amounts: list[tuple[int, str]], *, included: bool, channel: Channel, country: str, region: str,
    tax: TaxCalculator,
) -> list[int]:
    """Each (amount, tax class) of the channel's convention in the destination's: a net price plus the
    destination's tax (a net-price channel selling to a consumer in the EU), or a gross price less the
    channel country's tax it contains (a German shelf price sold to California)."""
    items = [Taxable(applies_to=str(n), amount=amount, tax_class=tax_class)
             for n, (amount, tax_class) in enumerate(amounts)]
    if not included:
        country, region = channel.tax_country, channel.tax_place_region
    found = await tax.calculate(items, country=country, region=region, prices_include_tax=not included)
    change = {line.applies_to: line.amount if included else -line.amount for line in found}
    return [amount + change[str(n)] for n, (amount, _) in enumerate(amounts)]


async def _with_gift_card(uow: Uow, snapshot: Snapshot, code: str, currency: str) -> Snapshot:
    code = code.strip().upper()
    async with uow() as tx:
        card = await tx.gift_cards.get(code)
    if card.currency != currency:
        raise GiftCardError(f"this gift card is in {card.currency}, the order in {currency}")
    if card.disabled or card.balance <= 0:
        raise GiftCardError("this gift card has no balance left")
    return replace(snapshot, gift_card_code=code, gift_card_amount=min(card.balance, snapshot.total))
