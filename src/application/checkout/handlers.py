"""Checkout use cases: steps, payment start (snapshot + stock hold), placing the one order, and
what the payment provider tells us afterwards (webhooks, reconciliation)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, replace
from datetime import datetime, timedelta
from typing import Any, cast

from application.carts import handlers as carts
from application.carts.ports import CartStore, PromotionEngine
from application.carts.pricing import SOLD_OUT, Channels, price_cart
from application.carts.read_models import CartView
from application.catalog.handlers import bundle_components, variant_weights
from application.checkout.commands import (
    ChooseShipping,
    GetCheckout,
    HandlePaymentEvent,
    PlaceOrder,
    ReconcilePayments,
    SecureOrderStock,
    SetAddress,
    SetContact,
    ShippingOptions,
    StartCheckout,
    StartPayment,
)
from application.checkout.ports import CheckoutUnitOfWork, ShippingRates, Taxable, TaxCalculator
from application.checkout.read_models import CheckoutView, PlacedOrderView, ShippingOptionView
from application.inventory.commands import CommitReservation, ExtendReservation, ReleaseReservation, ReserveStock
from application.orders.handlers import transition
from application.orders.refunds import refund_money, return_gift_card
from application.ports.addresses import AddressValidator
from application.ports.clock import Clock, IdGenerator
from application.ports.payments import Payment, PaymentGateway, PaymentRequest, PaymentStatus, WebhookEvent
from application.promotions.ports import Redemption
from domain.carts.cart import Owner, OwnerKind
from domain.checkout.checkout import Checkout, CheckoutClosed, CheckoutIncomplete, Snapshot
from domain.customers.customer import normalise_email
from domain.giftcards.giftcard import GiftCardError
from domain.inventory.errors import OutOfStock, ReservationClosed
from domain.orders.order import AppliedPromotion, Order, OrderLine, OrderStatus, TaxLine, Totals
from domain.shared.address import Address
from domain.shared.errors import ConcurrencyConflict, Conflict, DomainError, InvalidInput, NotFound
from domain.shared.money import Money
from domain.shipping.rates import MethodNotOffered
from domain.tax.rates import RateTable

logger = logging.getLogger(__name__)

Uow = Callable[[], CheckoutUnitOfWork]
Dispatch = Callable[[object], Awaitable[Any]]
PAYMENT_HOLD = timedelta(minutes=30)  # how long stock stays held while an online payment is open


class CheckoutNotFound(NotFound):
    pass


class EmptyCart(InvalidInput):
    """There is nothing to check out."""


class CartHasIssues(Conflict):
    """Some cart line is unavailable: the shopper must review the cart first."""


class UnknownPaymentProvider(InvalidInput):
    pass


def view(checkout: Checkout) -> CheckoutView:
    snap = checkout.snapshot
    return CheckoutView(
        id=checkout.id, state=checkout.state.value, next_step=checkout.next_step, currency=checkout.currency,
        channel=checkout.channel, email=checkout.email,
        shipping_address=asdict(checkout.shipping_address) if checkout.shipping_address else None,
        billing_address=asdict(checkout.billing_address) if checkout.billing_address else None,
        shipping_method=checkout.shipping_method, payment_provider=checkout.payment_provider,
        totals=None if snap is None else {
            "subtotal": snap.subtotal, "discount": snap.discount, "shipping": snap.shipping, "tax": snap.tax,
            "total": snap.total, "prices_include_tax": snap.prices_include_tax,
        },
        lines=list(snap.lines) if snap else [], tax_lines=list(snap.tax_lines) if snap else [],
        order_id=checkout.order_id, version=checkout.version,
    )


async def _load(uow: Uow, owner: Owner, checkout_id: str) -> Checkout:
    async with uow() as tx:
        try:
            checkout = await tx.checkouts.get(checkout_id)
        except NotFound:
            raise CheckoutNotFound(f"no checkout {checkout_id}") from None
    if checkout.owner != owner:
        raise CheckoutNotFound(f"no checkout {checkout_id}")  # someone else's: as good as absent
    return checkout


async def _change(uow: Uow, owner: Owner, checkout_id: str, change: Callable[[Checkout], str | None],
                  dispatch: Dispatch) -> Checkout:
    async with uow() as tx:
        checkout = await tx.checkouts.get(checkout_id)
        if checkout.owner != owner:
            raise CheckoutNotFound(f"no checkout {checkout_id}")
        loaded = checkout.version
        released = change(checkout)
        checkout.version = loaded + 1
        await tx.checkouts.save(checkout, expected_version=loaded)
        await tx.commit()
    if released:
        await _release(dispatch, released)
    return checkout


async def _release(dispatch: Dispatch, reservation_id: str) -> None:
    with contextlib.suppress(ReservationClosed):  # expired or already released: the units are back either way
        await dispatch(ReleaseReservation(reservation_id=reservation_id))


async def start_checkout(
    command: StartCheckout, *, uow: Uow, store: CartStore, clock: Clock, ids: IdGenerator,
) -> CheckoutView:
    cart = await carts.load(command.owner, store)
    if cart is None or cart.is_empty:
        raise EmptyCart("the cart is empty")
    email = None
    if command.owner.kind is OwnerKind.CUSTOMER:
        async with uow() as tx:
            email = (await tx.customers.get(command.owner.id)).email  # type: ignore[attr-defined]
    checkout = Checkout.start(
        checkout_id=ids.new_id(), owner=command.owner, cart_id=cart.id, currency=cart.currency,
        channel=cart.channel, email=email, now=clock.now(),
    )
    checkout.version = 1
    async with uow() as tx:
        await tx.checkouts.add(checkout)
        await tx.commit()
    return view(checkout)


async def get_checkout(query: GetCheckout, *, uow: Uow) -> CheckoutView:
    return view(await _load(uow, query.owner, query.checkout_id))


async def set_contact(command: SetContact, *, uow: Uow, clock: Clock, dispatch: Dispatch) -> CheckoutView:
    email = normalise_email(command.email)
    now = clock.now()
    return view(await _change(uow, command.owner, command.checkout_id,
                              lambda c: c.set_contact(email, now=now), dispatch))


async def set_address(
    command: SetAddress, *, uow: Uow, clock: Clock, addresses: AddressValidator, shipping: ShippingRates,
    dispatch: Dispatch,
) -> CheckoutView:
    ship_to = addresses.normalise(command.shipping)
    bill_to = addresses.normalise(command.billing) if command.billing else None
    checkout = await _load(uow, command.owner, command.checkout_id)
    # A destination no zone covers is refused now, not at payment (UnsupportedDestination).
    await shipping.options(country=ship_to.country, region=ship_to.region, currency=checkout.currency,
                           goods=0, weight_grams=0)
    now = clock.now()
    return view(await _change(uow, command.owner, command.checkout_id,
                              lambda c: c.set_address(ship_to, bill_to, now=now), dispatch))


async def _parcel(checkout: Checkout, priced: CartView, uow: Any) -> dict[str, Any]:
    address = checkout.shipping_address
    if address is None:
        raise CheckoutIncomplete("give an address first")
    weights = await variant_weights([line.sku for line in priced.lines], uow=uow)
    return {
        "country": address.country, "region": address.region, "currency": checkout.currency,
        "goods": priced.subtotal - priced.discount,
        "weight_grams": sum(weights.get(line.sku, 0) * line.quantity for line in priced.lines if line.available),
    }


async def _priced_cart(checkout: Checkout, *, store: CartStore, uow: Any, promotions: PromotionEngine,
                       channels: Channels, at: datetime) -> tuple[Any, CartView]:
    cart = await carts.load(checkout.owner, store, fresh=True)
    if cart is None or cart.id != checkout.cart_id or cart.is_empty:
        raise EmptyCart("the cart of this checkout is empty or gone")
    priced = await price_cart(cart, uow=uow, promotions=promotions, channel=channels.get(cart.channel),
                              rates=_NO_ESTIMATE, at=at)
    return cart, priced


async def shipping_options(
    query: ShippingOptions, *, uow: Uow, store: CartStore, promotions: PromotionEngine, channels: Channels,
    shipping: ShippingRates, clock: Clock,
) -> list[ShippingOptionView]:
    checkout = await _load(uow, query.owner, query.checkout_id)
    _, priced = await _priced_cart(checkout, store=store, uow=uow, promotions=promotions, channels=channels,
                                   at=clock.now())
    options = await shipping.options(**await _parcel(checkout, priced, uow))
    return [
        ShippingOptionView(id=o.method.id, name=o.method.name, amount=o.amount, currency=o.method.currency,
                           days=o.method.days)
        for o in options
    ]


async def choose_shipping(
    command: ChooseShipping, *, uow: Uow, store: CartStore, promotions: PromotionEngine, channels: Channels,
    shipping: ShippingRates, clock: Clock, dispatch: Dispatch,
) -> CheckoutView:
    checkout = await _load(uow, command.owner, command.checkout_id)
    _, priced = await _priced_cart(checkout, store=store, uow=uow, promotions=promotions, channels=channels,
                                   at=clock.now())
    offered = await shipping.options(**await _parcel(checkout, priced, uow))
    if command.method_id not in {o.method.id for o in offered}:
        raise MethodNotOffered(f"shipping method {command.method_id!r} is not offered for this address and cart")
    now = clock.now()
    return view(await _change(uow, command.owner, command.checkout_id,
                              lambda c: c.choose_shipping(command.method_id, now=now), dispatch))


async def start_payment(
    command: StartPayment, *, uow: Uow, store: CartStore, promotions: PromotionEngine, channels: Channels,
    shipping: ShippingRates, tax: TaxCalculator, gateways: Mapping[str, PaymentGateway], clock: Clock,
    dispatch: Dispatch, reservation_ttl: int,
) -> CheckoutView:
    """Price the cart for the address, freeze it, and hold the stock. Nothing is charged yet."""
    if command.provider not in gateways:
        raise UnknownPaymentProvider(f"unknown payment provider {command.provider!r}")
    checkout = await _load(uow, command.owner, command.checkout_id)
    if checkout.next_step not in ("payment", "place"):
        raise CheckoutIncomplete(f"the {checkout.next_step} step is missing")
    now = clock.now()
    cart, priced = await _priced_cart(checkout, store=store, uow=uow, promotions=promotions, channels=channels,
                                      at=now)
    unavailable = [line for line in priced.lines if not line.available]
    if unavailable and all(line.reason == SOLD_OUT for line in unavailable):
        raise OutOfStock(sorted({line.sku for line in unavailable}))  # what the stock hold would answer
    if unavailable:
        raise CartHasIssues("some cart lines are unavailable; review the cart")
    channel = channels.get(checkout.channel)
    parcel = await _parcel(checkout, priced, uow)
    option = next((o for o in await shipping.options(**parcel) if o.method.id == checkout.shipping_method), None)
    if option is None:
        raise MethodNotOffered("the chosen shipping method is no longer offered for this cart; choose again")
    # Priced again with the shipping price known: free or discounted shipping is a promotion too.
    priced = await price_cart(cart, uow=uow, promotions=promotions, channel=channel, rates=_NO_ESTIMATE, at=now,
                              shipping=option.amount)
    snapshot = await _snapshot(priced, cart.version, option.amount, option.method.id, checkout, channel, tax)
    if command.gift_card and snapshot.total > 0:
        snapshot = await _with_gift_card(uow, snapshot, command.gift_card, checkout.currency)

    components = await bundle_components([line.sku for line in priced.lines], uow=cast(Any, uow))
    holds: list[tuple[str, int]] = []
    for line in priced.lines:
        for sku, per_unit in components.get(line.sku, [(line.sku, 1)]):
            holds.append((sku, per_unit * line.quantity))
    # One hold per payment attempt; the previous one is released only once this attempt is saved
    # (a concurrent place or a second start_payment that wins keeps its hold intact).
    reservation_id = await dispatch(ReserveStock(reference=f"{checkout.id}:{checkout.version}", lines=holds,
                                                 ttl_seconds=reservation_ttl))
    try:
        async with uow() as tx:
            current = await tx.checkouts.get(checkout.id)
            previous = current.reservation_id
            current.begin_payment(provider=command.provider, snapshot=snapshot, reservation_id=reservation_id,
                                  now=now)
            current.version = checkout.version + 1
            await tx.checkouts.save(current, expected_version=checkout.version)
            await tx.commit()
    except BaseException:
        await _release(dispatch, reservation_id)  # nobody will pay for this hold
        raise
    if previous and previous != reservation_id:
        await _release(dispatch, previous)  # paying again after a change: the old hold goes back
    return view(current)


async def _snapshot(priced: CartView, cart_version: int, shipping_amount: int, method_id: str,
                    checkout: Checkout, channel: Any, tax: TaxCalculator) -> Snapshot:
    address = checkout.shipping_address
    assert address is not None
    lines = [line for line in priced.lines if line.available]
    # Order-level discounts are spread over lines, so each line's tax base is what is really paid.
    order_discount = priced.discount - sum(line.discount for line in lines)
    spread = (Money(order_discount, priced.currency).allocate([line.total for line in lines])
              if order_discount and sum(line.total for line in lines) > 0 else [])
    bases = [line.total - (spread[i].amount if spread else 0) for i, line in enumerate(lines)]
    taxables = [Taxable(applies_to=line.id, amount=base) for line, base in zip(lines, bases, strict=True)]
    shipping_amount -= priced.shipping_discount
    if shipping_amount:
        taxables.append(Taxable(applies_to="shipping", amount=shipping_amount))
    tax_lines = await tax.calculate(taxables, country=address.country, region=address.region,
                                    prices_include_tax=channel.prices_include_tax)
    tax_by_item = {t.applies_to: t.amount for t in tax_lines}
    tax_total = sum(t.amount for t in tax_lines)
    goods = sum(bases)
    total = goods + shipping_amount + (0 if channel.prices_include_tax else tax_total)
    return Snapshot(
        cart_version=cart_version,
        lines=tuple({
            "id": line.id, "sku": line.sku, "product_id": line.product_id, "name": line.name,
            "quantity": line.quantity, "unit_price": line.unit_price, "subtotal": line.subtotal,
            "discount": line.subtotal - base, "tax": tax_by_item.get(line.id, 0), "total": base,
            "promotions": [{"promotion_id": a.promotion_id, "version": a.version, "amount": a.amount}
                           for a in line.adjustments],
        } for line, base in zip(lines, bases, strict=True)),
        tax_lines=tuple(asdict(t) for t in tax_lines),
        subtotal=sum(line.subtotal for line in lines), discount=sum(line.subtotal for line in lines) - goods,
        shipping=shipping_amount, tax=tax_total, total=total, prices_include_tax=channel.prices_include_tax,
        shipping_method=method_id,
        coupon_codes=tuple(c.code for c in priced.coupons if c.applied),
        shipping_promotions=tuple({"promotion_id": a.promotion_id, "version": a.version, "amount": a.amount}
                                  for a in priced.shipping_adjustments),
    )


async def _with_gift_card(uow: Uow, snapshot: Snapshot, code: str, currency: str) -> Snapshot:
    code = code.strip().upper()
    async with uow() as tx:
        card = await tx.gift_cards.get(code)  # type: ignore[attr-defined]
    if card.currency != currency:
        raise GiftCardError(f"this gift card is in {card.currency}, the order in {currency}")
    if card.disabled or card.balance <= 0:
        raise GiftCardError("this gift card has no balance left")
    return replace(snapshot, gift_card_code=code, gift_card_amount=min(card.balance, snapshot.total))


def _order_from(checkout: Checkout, order_id: str, now: datetime) -> Order:
    snap = checkout.snapshot
    assert snap is not None
    assert checkout.shipping_address is not None
    assert checkout.email is not None
    return Order.place(
        actor=f"{checkout.owner.kind.value}:{checkout.owner.id}", now=now,
        id=order_id, number=f"EM-{now:%Y%m%d}-{order_id.replace('-', '')[-12:].upper()}", checkout_id=checkout.id,
        customer_id=checkout.owner.id if checkout.owner.kind is OwnerKind.CUSTOMER else None,
        email=checkout.email, channel=checkout.channel,
        lines=tuple(OrderLine(
            id=line["id"], sku=line["sku"], product_id=line["product_id"] or "", name=line["name"] or line["sku"],
            quantity=line["quantity"], unit_price=line["unit_price"], subtotal=line["subtotal"],
            discount=line["discount"], tax=line["tax"], total=line["total"],
            promotions=tuple(AppliedPromotion(**p) for p in line["promotions"]),
        ) for line in snap.lines),
        tax_lines=tuple(TaxLine(**t) for t in snap.tax_lines),
        totals=Totals(currency=checkout.currency, subtotal=snap.subtotal, discount=snap.discount,
                      shipping=snap.shipping, tax=snap.tax, total=snap.total,
                      prices_include_tax=snap.prices_include_tax),
        shipping_address=checkout.shipping_address,
        billing_address=checkout.billing_address or checkout.shipping_address,
        shipping_method=snap.shipping_method, payment_provider=checkout.payment_provider or "manual",
        gift_card_code=snap.gift_card_code, gift_card_amount=snap.gift_card_amount,
    )


async def place_order(
    command: PlaceOrder, *, uow: Uow, store: CartStore, gateways: Mapping[str, PaymentGateway], clock: Clock,
    ids: IdGenerator, dispatch: Dispatch,
) -> PlacedOrderView:
    """Create the one order of this checkout and its one payment. Safe to repeat: a second call (a
    retry, a race) finds the order and the same payment (the provider's idempotency key is the order)."""
    checkout = await _load(uow, command.owner, command.checkout_id)
    order = await _existing_order(uow, checkout)
    if order is None:
        cart = await carts.load(command.owner, store, fresh=True)
        now = clock.now()
        try:
            async with uow() as tx:
                current = await tx.checkouts.get(checkout.id)
                loaded = current.version
                current.place(order_id=ids.new_id(), cart_version=cart.version if cart else -1, now=now)
                assert current.order_id is not None
                order = _order_from(current, current.order_id, now)
                # Coupon and promotion limits, counted in the order's own transaction: a single-use
                # code raced by many checkouts is redeemed by exactly one of them.
                await tx.promotions.redeem(  # type: ignore[attr-defined]
                    order_id=order.id, customer_key=_customer_key(current),
                    coupon_codes=list(current.snapshot.coupon_codes if current.snapshot else ()),
                    redemptions=_redemptions(current),
                )
                if order.gift_card_code:
                    # Spent in the order's transaction, under the card's row lock: a card raced by two
                    # checkouts pays for one of them; the other gets InsufficientBalance and no order.
                    card = await tx.gift_cards.get(order.gift_card_code)  # type: ignore[attr-defined]
                    card_version = card.version
                    card.redeem(order.gift_card_amount, reference=order.id, now=now)
                    await tx.gift_cards.save(card, expected_version=card_version)  # type: ignore[attr-defined]
                if order.totals.total == order.gift_card_amount:  # nothing left to pay (a gift card, a free order)
                    order.pay(reference=f"giftcard:{order.gift_card_code}" if order.gift_card_code
                              else f"free:{order.id}", amount=0, now=now, actor="system")
                await tx.orders.add(order)
                current.version = loaded + 1
                await tx.checkouts.save(current, expected_version=loaded)
                await tx.commit()
            checkout = current
        except (Conflict, CheckoutClosed):  # ConcurrencyConflict is a Conflict too
            # A concurrent place won the race: answer with its order.
            checkout = await _load(uow, command.owner, command.checkout_id)
            order = await _existing_order(uow, checkout)
            if order is None:
                raise
        else:
            if cart is not None:
                await _retire_cart(store, command.owner, clock)
    due = order.totals.total - order.gift_card_amount
    if due == 0 or order.status is not OrderStatus.PENDING:
        # Nothing to pay, or already paid or cancelled: a retried place must never open a new payment.
        return PlacedOrderView(
            order_id=order.id, number=order.number, status=order.status.value, total=order.totals.total,
            currency=order.totals.currency,
            payment_provider=order.payment_provider if due else ("giftcard" if order.gift_card_code else "none"),
            payment_reference=next((p.reference for p in order.payments), None),
        )
    gateway = gateways[order.payment_provider]
    payment = await gateway.create(PaymentRequest(
        order_id=order.id, amount=due, currency=order.totals.currency,
        idempotency_key=f"order-{order.id}", email=order.email, description=f"Order {order.number}",
    ))
    await _attach(uow, order.id, order.payment_provider, payment, clock)
    if checkout.reservation_id:
        if order.payment_provider == "manual":
            await _commit_stock(dispatch, checkout.reservation_id)
        else:
            try:
                await dispatch(ExtendReservation(reservation_id=checkout.reservation_id,
                                                 seconds=int(PAYMENT_HOLD.total_seconds())))
            except ReservationClosed:
                logger.warning("reservation %s closed before payment; the paid event re-reserves",
                               checkout.reservation_id)
    return PlacedOrderView(
        order_id=order.id, number=order.number, status=order.status.value, total=order.totals.total,
        currency=order.totals.currency, payment_provider=order.payment_provider, payment_reference=payment.reference,
        client_secret=payment.client_secret,
    )


def _customer_key(checkout: Checkout) -> str:
    """Who a per-customer limit counts: the customer, or a guest by e-mail address."""
    if checkout.owner.kind is OwnerKind.CUSTOMER:
        return f"customer:{checkout.owner.id}"
    return f"email:{checkout.email}"


def _redemptions(checkout: Checkout) -> list[Redemption]:
    snap = checkout.snapshot
    assert snap is not None
    amounts: dict[tuple[str, int], int] = {}
    for line in snap.lines:
        for applied in line["promotions"]:
            key = (applied["promotion_id"], applied["version"])
            amounts[key] = amounts.get(key, 0) + applied["amount"]
    for applied in snap.shipping_promotions:
        key = (applied["promotion_id"], applied["version"])
        amounts[key] = amounts.get(key, 0) + applied["amount"]
    return [Redemption(promotion_id=pid, version=version, amount=amount, currency=checkout.currency)
            for (pid, version), amount in sorted(amounts.items())]


async def _existing_order(uow: Uow, checkout: Checkout) -> Order | None:
    if checkout.order_id is None:
        return None
    async with uow() as tx:
        return await tx.orders.get(checkout.order_id)


async def _retire_cart(store: CartStore, owner: Owner, clock: Clock) -> None:
    with contextlib.suppress(NotFound):
        await carts.change(owner, store, lambda c: c.retire(now=clock.now()))


async def _attach(uow: Uow, order_id: str, provider: str, payment: Payment, clock: Clock) -> None:
    """Record the provider's payment on the order (``provider``: the key the gateway is configured under)."""
    for _ in range(5):
        async with uow() as tx:
            order = await tx.orders.get(order_id)
            if order.has_payment(payment.reference):
                return
            loaded = order.version
            order.attach_payment(provider=provider, reference=payment.reference, now=clock.now(),
                                 actor="system")
            try:
                await tx.orders.save(order, expected_version=loaded)
                await tx.commit()
                return
            except ConcurrencyConflict:
                continue
    raise ConcurrencyConflict(f"order {order_id} kept changing")


async def _commit_stock(dispatch: Dispatch, reservation_id: str) -> bool:
    try:
        await dispatch(CommitReservation(reservation_id=reservation_id))
        return True
    except ReservationClosed:
        return False


async def handle_payment_event(
    command: HandlePaymentEvent, *, uow: Uow, clock: Clock, dispatch: Dispatch,
    gateways: Mapping[str, PaymentGateway],
) -> str:
    """Apply a verified webhook once (by event id). Out-of-order and repeated events are harmless:
    a success after a failure still pays; a failure after a success changes nothing. Money the
    order can no longer take (it was cancelled, or paid another way) is refunded, never kept."""
    event = command.event
    assert isinstance(event, WebhookEvent)
    now = clock.now()
    consumer = f"payments:{command.provider}"
    reference = event.payment_reference or ""
    actor = f"{command.provider}:webhook"
    orphan = False
    async with uow() as tx:
        if not await tx.processed.mark(consumer, event.id):
            return "duplicate"
        order = await _order_of_event(tx, event)
        if order is None:
            await tx.commit()  # remember the event; the reconciler looks at orphaned payments
            logger.warning("payment event %s for unknown payment %s", event.id, event.payment_reference)
            return "unknown-payment"
        loaded = order.version
        outcome = "ignored"
        try:
            if event.type == "payment_intent.succeeded":
                already = any(p.reference == reference and p.status == "succeeded" for p in order.payments)
                if order.status is not OrderStatus.PENDING and not already:
                    orphan = True  # handled below: refunded first, then recorded (no commit here)
                else:
                    paid = order.pay(reference=reference, amount=event.amount, now=now, actor=actor)
                    outcome = "paid" if paid else "ignored"
            elif event.type == "payment_intent.payment_failed":
                outcome = "failed" if order.payment_failed(reference=reference, now=now, actor=actor) else "ignored"
            elif event.type == "charge.dispute.created":
                deadline = event.data.get("evidence_due_by")
                when = datetime.fromtimestamp(deadline, tz=now.tzinfo) if isinstance(deadline, int) else None
                outcome = "disputed" if order.open_dispute(
                    dispute_id=str(event.data.get("id", event.id)), deadline=when, now=now, actor=actor,
                ) else "ignored"
            elif event.type == "charge.dispute.closed":
                won = event.data.get("status") == "won"
                outcome = "dispute-closed" if order.close_dispute(
                    won=won, refund_reference=f"dispute-{event.data.get('id', event.id)}", now=now, actor=actor,
                ) else "ignored"
        except DomainError as error:
            # The provider reports something the order's state cannot take (a dispute on a cancelled
            # order, an amount that does not match): keep it on the timeline for the support team
            # instead of refusing the webhook forever.
            order.note(action=f"unapplied:{event.type}", detail=f"{event.id}: {error}", now=now, actor=actor)
            outcome = "noted"
        if not orphan:
            if order.version != loaded:
                await tx.orders.save(order, expected_version=loaded)
            await tx.commit()
    if orphan:
        return await _refund_orphan(command.provider, event, uow=uow, clock=clock, gateways=gateways)
    checkout = await _checkout_of(uow, order)
    if outcome == "failed" and checkout is not None and checkout.reservation_id:
        await _release(dispatch, checkout.reservation_id)  # the stock goes back on sale
    return outcome


async def _order_of_event(tx: Any, event: WebhookEvent) -> Order | None:
    order: Order | None = await tx.orders.by_payment(event.payment_reference) if event.payment_reference else None
    if order is None and event.order_id:
        try:
            order = await tx.orders.get(event.order_id)
        except NotFound:
            order = None
    return order


async def _refund_orphan(provider: str, event: WebhookEvent, *, uow: Uow, clock: Clock,
                         gateways: Mapping[str, PaymentGateway]) -> str:
    """A payment succeeded for an order that can no longer take it: give it back (idempotently),
    then record the event as handled with a note on the order's timeline."""
    reference = event.payment_reference or ""
    refund = await gateways[provider].refund(reference, amount=event.amount,
                                             idempotency_key=f"orphan-{reference}")
    async with uow() as tx:
        if not await tx.processed.mark(f"payments:{provider}", event.id):
            return "duplicate"
        order = await _order_of_event(tx, event)
        if order is not None:
            loaded = order.version
            order.note(action="orphan_payment_refunded", detail=f"{reference} {event.amount} -> {refund.reference}",
                       now=clock.now(), actor=f"{provider}:webhook")
            await tx.orders.save(order, expected_version=loaded)
        await tx.commit()
    logger.warning("refunded payment %s: its order could no longer take it", reference)
    return "orphan-refunded"


async def _checkout_of(uow: Uow, order: Order) -> Checkout | None:
    async with uow() as tx:
        try:
            return await tx.checkouts.get(order.checkout_id)
        except NotFound:
            return None


async def secure_order_stock(
    command: SecureOrderStock, *, uow: Uow, dispatch: Dispatch, gateways: Mapping[str, PaymentGateway],
    clock: Clock,
) -> str:
    """Turn the order's held units into sold ones: once paid online, or as soon as a manual
    (invoice, cash on delivery) order is placed. A lapsed hold is re-taken if the units are still
    there; if they were sold meanwhile, a paid order is refunded and cancelled, a manual one just
    cancelled. Idempotent (a reservation commits once; the refund key is the order): the outbox
    consumer of OrderPlaced and OrderPaid runs it."""
    async with uow() as tx:
        order = await tx.orders.get(command.order_id)
    manual_pending = order.status is OrderStatus.PENDING and order.payment_provider == "manual"
    if order.status is not OrderStatus.PAID and not manual_pending:
        return "nothing-to-do"
    checkout = await _checkout_of(uow, order)
    if checkout is None or checkout.reservation_id is None:
        return "no-hold"
    if not order.noted(STOCK_LOST):
        try:
            await dispatch(CommitReservation(reservation_id=checkout.reservation_id, reclaim=True))
            return "committed"
        except OutOfStock:
            logger.warning("order %s lost its units before they were secured: cancelling", order.id)
        # The decision is recorded before any money moves: a retry (after a crash, or once stock is
        # back) finishes the cancellation instead of shipping an order whose money went back.
        order = await transition(cast(Any, uow), order.id, lambda o: o.note(
            action=STOCK_LOST, detail="sold out before the order was secured", now=clock.now(), actor="system"))
    refund_reference = None
    if order.status is OrderStatus.PAID:
        parts = await refund_money(order, order.refundable, key=f"stock-gone-{order.id}", uow=uow,
                                   gateways=gateways, clock=clock)
        refund_reference = "+".join(reference for reference, _ in parts)
    for _ in range(5):
        async with uow() as tx:
            order = await tx.orders.get(command.order_id)
            if order.status not in (OrderStatus.PAID, OrderStatus.PENDING):
                return "cancelled"
            loaded = order.version
            order.cancel(now=clock.now(), actor="system", reason="sold out before the order was secured",
                         refund_reference=refund_reference)
            try:
                await tx.orders.save(order, expected_version=loaded)
            except ConcurrencyConflict:
                continue
            if refund_reference is None:
                await return_gift_card(tx, order, clock=clock)
            await tx.promotions.release(order.id)  # type: ignore[attr-defined]
            await tx.commit()
            return "cancelled"
    raise ConcurrencyConflict(f"order {command.order_id} kept changing; the consumer retries")


STOCK_LOST = "stock_lost"


async def reconcile_payments(
    command: ReconcilePayments, *, uow: Uow, gateways: Mapping[str, PaymentGateway], clock: Clock,
    dispatch: Dispatch,
) -> dict[str, int]:
    """The safety net for lost webhooks: for each pending online order, the provider's word is
    applied as if its webhook had arrived (same handler, deduplicated by a synthetic event id).
    Paid → the order is paid (its stock secured by the OrderPaid consumer); cancelled at the
    provider, or still unpaid once its stock hold is long gone → voided at the provider and the
    order cancelled. Every pending order therefore leaves the work list, and one bad order never
    stops the run."""
    counts = {"paid": 0, "cancelled": 0, "waiting": 0, "errors": 0}
    now = clock.now()
    before = now - timedelta(seconds=command.older_than_seconds)
    abandoned = now - PAYMENT_HOLD - timedelta(minutes=10)
    for provider, gateway in gateways.items():
        if provider == "manual":
            continue  # invoices are settled by staff, not by a provider
        async with uow() as tx:
            waiting = await tx.orders.pending_payments(provider=provider, placed_before=before, limit=command.limit)
        for order in waiting:
            try:
                counts[await _reconcile_order(order, provider, gateway, abandoned=abandoned, uow=uow, clock=clock,
                                              dispatch=dispatch, gateways=gateways)] += 1
            except Exception:
                logger.exception("reconciling order %s failed", order.id)
                counts["errors"] += 1
    return counts


async def _reconcile_order(order: Order, provider: str, gateway: PaymentGateway, *, abandoned: datetime, uow: Uow,
                           clock: Clock, dispatch: Dispatch, gateways: Mapping[str, PaymentGateway]) -> str:
    for record in order.payments:
        payment = await gateway.retrieve(record.reference)
        if payment.status is PaymentStatus.SUCCEEDED:
            await handle_payment_event(HandlePaymentEvent(provider=provider, event=WebhookEvent(
                id=f"reconcile:{payment.reference}:succeeded", type="payment_intent.succeeded",
                created=clock.now(), payment_reference=payment.reference,
                amount=payment.amount_received or payment.amount, currency=payment.currency,
            )), uow=uow, clock=clock, dispatch=dispatch, gateways=gateways)
            return "paid"
    cancelled = all([
        (await gateway.retrieve(r.reference)).status is PaymentStatus.CANCELED for r in order.payments
    ]) if order.payments else False
    if cancelled or order.placed_at < abandoned:
        for record in order.payments:
            current = await gateway.retrieve(record.reference)
            if current.status not in (PaymentStatus.CANCELED, PaymentStatus.SUCCEEDED):
                await gateway.cancel(record.reference)  # void it: it must never be paid later
        await _cancel_unpaid(uow, order.id, clock, dispatch, reason="payment cancelled or abandoned")
        return "cancelled"
    return "waiting"


async def _cancel_unpaid(uow: Uow, order_id: str, clock: Clock, dispatch: Dispatch, *, reason: str) -> None:
    async with uow() as tx:
        order = await tx.orders.get(order_id)
        if order.status is not OrderStatus.PENDING:
            return
        loaded = order.version
        order.cancel(now=clock.now(), actor="system:reconciler", reason=reason)
        await tx.orders.save(order, expected_version=loaded)
        await return_gift_card(tx, order, clock=clock)
        await tx.promotions.release(order.id)  # type: ignore[attr-defined]
        await tx.commit()
    checkout = await _checkout_of(uow, order)
    if checkout is not None and checkout.reservation_id:
        await _release(dispatch, checkout.reservation_id)


_NO_ESTIMATE = RateTable()  # price_cart's cart-page estimate; checkout computes the real tax itself


def address_from(data: Mapping[str, Any]) -> Address:
    return Address(**{k: v for k, v in data.items() if k in Address.__dataclass_fields__})
