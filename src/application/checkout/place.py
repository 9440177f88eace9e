"""Placing the one order of a checkout, and opening its one payment."""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping
from datetime import datetime

from application.carts import queries as carts
from application.carts.ports import CartStore
from application.checkout.commands import PlaceOrder
from application.checkout.common import Uow, load_checkout
from application.checkout.ports import CheckoutUnitOfWork
from application.checkout.read_models import PlacedOrderView
from application.inventory.api import sell
from application.inventory.batching import ReservationBatcher
from application.inventory.commands import CommitReservation, ExtendReservation
from application.inventory.ports import StockGate
from application.invoicing.issue import issue_documents
from application.messaging.registry import Dispatch, handler
from application.messaging.retry import retry_on_conflict
from application.payments.pay_later import PAY_LATER, PayLater
from application.payments.policy import PAYMENT_HOLD
from application.ports.clock import Clock, IdGenerator
from application.ports.payments import Payment, PaymentGateway, PaymentRequest
from application.promotions.ports import Redemption
from domain.carts.cart import Cart, OwnerKind
from domain.checkout.checkout import Checkout, CheckoutClosed
from domain.inventory.errors import ReservationClosed
from domain.orders.order import AppliedPromotion, Order, OrderLine, OrderStatus, TaxLine, Totals
from domain.shared.errors import Conflict
from domain.shared.shop import Shop

logger = logging.getLogger(__name__)


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
        reservation_id=checkout.reservation_id,
        guest_id=checkout.owner.id if checkout.owner.kind is OwnerKind.GUEST else None,
    )


@handler
async def place_order(
    command: PlaceOrder, *, uow: Uow, cart_store: CartStore, gateways: Mapping[str, PaymentGateway], clock: Clock,
    ids: IdGenerator, dispatch: Dispatch, pay_later: PayLater, batcher: ReservationBatcher, gate: StockGate,
    shop: Shop,
) -> PlacedOrderView:
    """Create the one order of this checkout and its one payment. Safe to repeat: a second call (a
    retry, a race) finds the order and the same payment (the provider's idempotency key is the order).

    One transaction writes the order, the placed checkout, the retired cart (version-checked: two
    checkouts of one cart cannot both become orders) and, paying later, the sale of the held units."""
    checkout = await load_checkout(uow, command.owner, command.checkout_id)
    order = await _existing_order(uow, checkout)
    sold = False
    if order is None:
        cart = await carts.load(command.owner, cart_store, fresh=True)
        now = clock.now()
        order_id = ids.new_id()
        placed: list[tuple[Checkout, Order, Cart | None]] = []

        async def write(tx: CheckoutUnitOfWork, _reservation_id: str | None = None) -> None:
            # Run again from the start should its group be retried one by one: nothing kept between runs.
            current = copy.deepcopy(checkout)
            tx.checkouts.track(current)  # as read above: a concurrent place makes this save conflict
            current.place(order_id=order_id, cart_version=cart.version if cart else -1, now=now)
            order = await _take_order(tx, current, gateways, now)
            await tx.orders.add(order)
            await issue_documents(tx, order, shop=shop, ids=ids, now=now)  # paid at once: a gift card, a free order
            await tx.checkouts.save(current)
            retired = None
            if cart is not None:
                retired = copy.deepcopy(cart)
                retired.retire(now=now)
                await tx.carts.save(retired, expires_at=cart_store.expiry_of(retired))
            placed[:] = [(current, order, retired)]

        try:
            if checkout.reservation_id and checkout.payment_provider == PAY_LATER:
                # Paying later sells the held units now, in the order's transaction (a lapsed hold
                # is taken again if its units are still there, else ``OutOfStock``).
                await sell(checkout.reservation_id, reclaim=True, then=write, batcher=batcher, uow=uow, gate=gate,
                           clock=clock)
                sold = True
            else:
                async with uow() as tx:
                    await write(tx)
                    await tx.commit()
        except (Conflict, CheckoutClosed):  # ConcurrencyConflict is a Conflict too
            # A concurrent place won the race: answer with its order.
            checkout = await load_checkout(uow, command.owner, command.checkout_id)
            order = await _existing_order(uow, checkout)
            if order is None:
                raise
        else:
            checkout, order, retired = placed[0]
            if retired is not None:
                await cart_store.saved(retired)
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
    payment = await gateway.create(_payment_request(order))
    if not order.has_payment(payment.reference):
        await _attach(uow, order.id, order.payment_provider, payment, clock)
    if checkout.reservation_id and not sold:
        if order.payment_provider == PAY_LATER:
            await _commit_stock(dispatch, checkout.reservation_id)  # a retried place of an older order
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
        pay_by=pay_later.pay_by(order.placed_at).isoformat() if order.payment_provider == PAY_LATER else None,
    )


async def _take_order(
    tx: CheckoutUnitOfWork, checkout: Checkout, gateways: Mapping[str, PaymentGateway], now: datetime,
) -> Order:
    """The placed checkout's order, with what it takes in the same transaction: its promotion uses, its
    gift-card money and, paying later, its payment record."""
    assert checkout.order_id is not None
    order = _order_from(checkout, checkout.order_id, now)
    # Coupon and promotion limits, counted in the order's own transaction: a single-use
    # code raced by many checkouts is redeemed by exactly one of them.
    await tx.promotions.redeem(
        order_id=order.id, customer_key=_customer_key(checkout),
        coupon_codes=list(checkout.snapshot.coupon_codes if checkout.snapshot else ()),
        redemptions=_redemptions(checkout),
    )
    if order.gift_card_code:
        # Spent in the order's transaction, under the card's row lock: a card raced by two
        # checkouts pays for one of them; the other gets InsufficientBalance and no order.
        card = await tx.gift_cards.get(order.gift_card_code)
        card.redeem(order.gift_card_amount, reference=order.id, now=now)
        await tx.gift_cards.save(card)
    if order.totals.total == order.gift_card_amount:  # nothing left to pay (a gift card, a free order)
        order.pay(reference=f"giftcard:{order.gift_card_code}" if order.gift_card_code
                  else f"free:{order.id}", amount=0, now=now, actor="system")
    elif order.payment_provider == PAY_LATER:
        # Pay later asks no provider (its reference comes from the order id): the payment is
        # recorded in the order's own transaction, not in a second one after it.
        local = await gateways[PAY_LATER].create(_payment_request(order))
        order.attach_payment(provider=PAY_LATER, reference=local.reference, now=now, actor="system")
    return order


def _payment_request(order: Order) -> PaymentRequest:
    """What the provider is asked for: what is due after any gift card; the order is its idempotency key."""
    return PaymentRequest(
        order_id=order.id, amount=order.totals.total - order.gift_card_amount, currency=order.totals.currency,
        idempotency_key=f"order-{order.id}", email=order.email, description=f"Order {order.number}",
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


async def _attach(uow: Uow, order_id: str, provider: str, payment: Payment, clock: Clock) -> None:
    """Record the provider's payment on the order (``provider``: the key the gateway is configured under)."""

    async def attach() -> None:
        async with uow() as tx:
            order = await tx.orders.get(order_id)
            # Once per reference: a retried place finds it recorded, changes nothing and writes nothing.
            order.attach_payment(provider=provider, reference=payment.reference, now=clock.now(), actor="system")
            await tx.orders.save(order)
            await tx.commit()

    await retry_on_conflict(attach)


async def _commit_stock(dispatch: Dispatch, reservation_id: str) -> bool:
    try:
        await dispatch(CommitReservation(reservation_id=reservation_id))
        return True
    except ReservationClosed:
        return False
