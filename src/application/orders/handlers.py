"""Staff actions on orders (pay, fulfil, ship, deliver, cancel, refund) and settling an order's stock.
Reads (``GetOrder``, ``ListOrders``, ``SalesReport``) are in ``queries``; read-model consumers in ``projections``."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from application.inventory.commands import ReturnReservation, ShipReservation
from application.invoicing.issue import issue_documents
from application.messaging.registry import Command, Dispatch, handler
from application.messaging.retry import retry_on_conflict
from application.orders.errors import OrderNotVisible
from application.orders.queries import OrderView, Uow, order_view
from application.orders.refunds import refund_money, return_gift_card
from application.ports.clock import Clock, IdGenerator
from application.ports.payments import PaymentGateway, PaymentStatus
from domain.inventory.errors import OutOfStock, ReservationClosed
from domain.orders.order import AFTER_PAYMENT, InvalidTransition, Order, OrderStatus, RefundTooLarge
from domain.shared.errors import InvalidInput, NotFound
from domain.shared.shop import Shop

logger = logging.getLogger(__name__)
MAX_EVIDENCE = 200


# -- staff actions --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class MarkPaid(Command[OrderView]):
    """Staff record that a manual (invoice, cash on delivery) order was paid, naming the evidence
    (a bank transfer's reference, a receipt number): it goes on the timeline beside the payment."""

    order_id: str
    actor: str
    evidence: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FulfilOrder(Command[OrderView]):
    order_id: str
    actor: str
    lines: dict[str, int] | None = None  # line id -> quantity; None: everything left


@dataclass(frozen=True, slots=True, kw_only=True)
class ShipOrder(Command[OrderView]):
    order_id: str
    actor: str
    carrier: str
    tracking_number: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SettleOrderStock(Command[str]):
    """Bring the order's stock in line with where the order is (the outbox consumer of its status
    changes): shipped units leave on-hand; an order that ended unshipped puts its units back on sale."""

    order_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliverOrder(Command[OrderView]):
    order_id: str
    actor: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelOrder(Command[OrderView]):
    order_id: str
    actor: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RefundOrder(Command[OrderView]):
    order_id: str
    actor: str
    amount: int
    reason: str


async def transition(
    uow: Uow, order_id: str, change: Callable[[Order], Any],
    also: Callable[[Order, Any], Awaitable[None]] | None = None,
) -> Order:
    """Load, apply, save, commit; a concurrent save makes it reload and re-check the transition
    (``retry_on_conflict``). ``also`` writes what must commit with the change (in the same transaction)."""

    async def attempt() -> Order:
        async with uow() as tx:
            try:
                order = await tx.orders.get(order_id)
            except NotFound:
                raise OrderNotVisible(f"no order {order_id}") from None
            change(order)
            await tx.orders.save(order)  # writes nothing when the change changed nothing
            if also is not None:
                await also(order, tx)
            await tx.commit()
            return order

    return await retry_on_conflict(attempt)


def documents(shop: Shop, ids: IdGenerator, clock: Clock) -> Callable[[Order, Any], Awaitable[None]]:
    """``transition``'s ``also`` for a change that pays or refunds: its invoice or credit note, numbered in
    the same transaction (``application.invoicing.issue``)."""

    async def issue(order: Order, tx: Any) -> None:
        await issue_documents(tx, order, shop=shop, ids=ids, now=clock.now())

    return issue


@handler
async def mark_paid(command: MarkPaid, *, uow: Uow, clock: Clock, ids: IdGenerator, shop: Shop) -> OrderView:
    def change(order: Order) -> None:
        if order.payment_provider != "manual":
            raise InvalidTransition("online payments are confirmed by the provider, not by staff")
        evidence = command.evidence.strip()
        if not evidence or len(evidence) > MAX_EVIDENCE:
            raise InvalidInput(f"name the evidence of payment in 1 to {MAX_EVIDENCE} characters")
        reference = order.payments[0].reference if order.payments else f"manual-{order.id}"
        now = clock.now()
        order.pay(reference=reference, amount=order.totals.total - order.gift_card_amount, now=now, actor=command.actor)
        order.note(action="payment_evidence", detail=evidence, now=now, actor=command.actor)

    return order_view(await transition(uow, command.order_id, change, also=documents(shop, ids, clock)),
                      with_timeline=True)


@handler
async def fulfil_order(command: FulfilOrder, *, uow: Uow, clock: Clock, ids: IdGenerator) -> OrderView:
    def change(order: Order) -> None:
        lines = command.lines or {k: v for k, v in order.unfulfilled().items() if v > 0}
        order.fulfil(fulfilment_id=ids.new_id(), lines=lines, now=clock.now(), actor=command.actor)

    return order_view(await transition(uow, command.order_id, change), with_timeline=True)


@handler
async def ship_order(command: ShipOrder, *, uow: Uow, clock: Clock) -> OrderView:
    return order_view(await transition(uow, command.order_id, lambda o: o.ship(
        carrier=command.carrier, tracking_number=command.tracking_number, now=clock.now(), actor=command.actor,
    )), with_timeline=True)


@handler
async def deliver_order(command: DeliverOrder, *, uow: Uow, clock: Clock) -> OrderView:
    return order_view(await transition(uow, command.order_id, lambda o: o.deliver(now=clock.now(),
                                                                                   actor=command.actor)),
                      with_timeline=True)


async def _load(uow: Uow, order_id: str) -> Order:
    async with uow() as tx:
        try:
            return await tx.orders.get(order_id)
        except NotFound:
            raise OrderNotVisible(f"no order {order_id}") from None


async def _return_stock(uow: Uow, order: Order, dispatch: Dispatch, actor: str) -> None:
    if reservation_id := order.reservation_id:
        await dispatch(ReturnReservation(reservation_id=reservation_id, actor=actor))


@handler
async def settle_order_stock(command: SettleOrderStock, *, uow: Uow, dispatch: Dispatch) -> str:
    """Idempotent (a reservation ships once and comes back once), so redelivered or reordered
    status events are harmless; it also finishes a cancellation whose own return was lost."""
    order = await _load(uow, command.order_id)
    shipped = any(f.shipped_at for f in order.fulfilments)
    if not shipped and order.status not in (OrderStatus.CANCELLED, OrderStatus.REFUNDED):
        return "nothing-to-do"
    reservation_id = order.reservation_id
    if reservation_id is None:
        return "no-hold"
    if not shipped:
        returned = await dispatch(ReturnReservation(reservation_id=reservation_id, actor="system"))
        return "returned" if returned else "already-settled"
    try:
        moved = await dispatch(ShipReservation(reservation_id=reservation_id, actor="system"))
    except (OutOfStock, ReservationClosed) as error:
        # The parcel left with units the ledger had given back or to someone else (the hold lapsed
        # and was sold before the order was secured). Retrying cannot fix that: a person must.
        logger.error("order %s shipped units its hold no longer had: %s", order.id, error)
        return "units-gone"
    return "shipped" if moved else "already-settled"


@handler
async def cancel_order(
    command: CancelOrder, *, uow: Uow, clock: Clock, gateways: Mapping[str, PaymentGateway], dispatch: Dispatch,
    ids: IdGenerator, shop: Shop,
) -> OrderView:
    """Pending: cancelled. Paid: refunded in full through the provider (idempotently), then
    cancelled. Either way the stock comes back (a hold is released, sold units returned)."""
    order = await _load(uow, command.order_id)
    refund_reference = None
    if order.status is OrderStatus.PAID and order.refundable > 0:
        parts = await refund_money(order, order.refundable, key=f"cancel-{order.id}", uow=uow, gateways=gateways,
                                   clock=clock)
        refund_reference = "+".join(reference for reference, _ in parts)
    elif order.status is OrderStatus.PENDING and order.payment_provider != "manual":
        # Void the open online payment first: a shopper must not be able to pay a cancelled order.
        gateway = gateways[order.payment_provider]
        for record in order.payments:
            current = await gateway.retrieve(record.reference)
            if current.status is PaymentStatus.SUCCEEDED:
                raise InvalidTransition("the payment has just succeeded; cancel again once it is recorded")
            if current.status is not PaymentStatus.CANCELED:
                await gateway.cancel(record.reference)

    async def card_back(o: Order, tx: Any) -> None:
        if refund_reference is None:  # a pending order: what it took from a gift card goes back
            await return_gift_card(tx, o, clock=clock)
        await tx.promotions.release(o.id)  # its coupon uses and promotion limits are free again
        await issue_documents(tx, o, shop=shop, ids=ids, now=clock.now())  # a paid order's credit note

    order = await transition(uow, command.order_id, lambda o: o.cancel(
        now=clock.now(), actor=command.actor, reason=command.reason, refund_reference=refund_reference,
    ), also=card_back)
    await _return_stock(uow, order, dispatch, command.actor)
    return order_view(order, with_timeline=True)


@handler
async def refund_order(
    command: RefundOrder, *, uow: Uow, clock: Clock, gateways: Mapping[str, PaymentGateway], ids: IdGenerator,
    shop: Shop,
) -> OrderView:
    """Never above what was captured and not yet refunded. The provider's idempotency key is the
    order and its refund count, so a retry after a crash refunds once and records once."""
    order = await _load(uow, command.order_id)
    if command.amount <= 0 or command.amount > order.refundable:
        raise RefundTooLarge(f"at most {order.refundable} can be refunded")
    if order.status not in AFTER_PAYMENT:
        raise InvalidTransition(f"cannot refund an order that is {order.status.value}")
    parts = await refund_money(order, command.amount, key=f"refund-{order.id}-{len(order.refunds) + 1}", uow=uow,
                               gateways=gateways, clock=clock)

    def record(o: Order) -> None:
        for reference, amount in parts:
            o.refund(amount=amount, reference=reference, reason=command.reason, now=clock.now(), actor=command.actor)

    return order_view(await transition(uow, command.order_id, record, also=documents(shop, ids, clock)),
                      with_timeline=True)
