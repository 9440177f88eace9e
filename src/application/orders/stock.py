"""The placed order's stock: securing its held units once it is paid (or placed on invoice), and
cancelling an order that was never paid, which gives its units, gift card and promotions back."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from application.inventory.commands import CommitReservation, ReleaseReservation
from application.invoicing.issue import issue_documents
from application.messaging.registry import Command, Dispatch, handler
from application.messaging.retry import retry_on_conflict
from application.orders.handlers import transition
from application.orders.queries import Uow
from application.orders.refunds import refund_money, return_gift_card
from application.ports.clock import Clock, IdGenerator
from application.ports.payments import PaymentGateway
from domain.inventory.errors import OutOfStock, ReservationClosed
from domain.orders.order import OrderStatus
from domain.shared.shop import Shop

logger = logging.getLogger(__name__)

STOCK_LOST = "stock_lost"  # the timeline note that records the decision to cancel an order whose units were sold


@dataclass(frozen=True, slots=True, kw_only=True)
class SecureOrderStock(Command[str]):
    """Commit the order's stock hold (after payment, or at once for manual payment)."""

    order_id: str


async def release_hold(dispatch: Dispatch, reservation_id: str) -> None:
    with contextlib.suppress(ReservationClosed):  # expired or already released: the units are back either way
        await dispatch(ReleaseReservation(reservation_id=reservation_id))


@handler
async def secure_order_stock(
    command: SecureOrderStock, *, uow: Uow, dispatch: Dispatch, gateways: Mapping[str, PaymentGateway],
    clock: Clock, ids: IdGenerator, shop: Shop,
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
    reservation_id = order.reservation_id
    if reservation_id is None:
        return "no-hold"
    if not order.noted(STOCK_LOST):
        try:
            await dispatch(CommitReservation(reservation_id=reservation_id, reclaim=True))
            return "committed"
        except OutOfStock:
            logger.warning("order %s lost its units before they were secured: cancelling", order.id)
        # The decision is recorded before any money moves: a retry (after a crash, or once stock is
        # back) finishes the cancellation instead of shipping an order whose money went back.
        order = await transition(uow, order.id, lambda o: o.note(
            action=STOCK_LOST, detail="sold out before the order was secured", now=clock.now(), actor="system"))
    refund_reference = None
    if order.status is OrderStatus.PAID:
        parts = await refund_money(order, order.refundable, key=f"stock-gone-{order.id}", uow=uow,
                                   gateways=gateways, clock=clock)
        refund_reference = "+".join(reference for reference, _ in parts)

    async def cancel() -> str:
        async with uow() as tx:
            current = await tx.orders.get(command.order_id)
            if current.status not in (OrderStatus.PAID, OrderStatus.PENDING):
                return "cancelled"
            current.cancel(now=clock.now(), actor="system", reason="sold out before the order was secured",
                           refund_reference=refund_reference)
            await tx.orders.save(current)
            if refund_reference is None:
                await return_gift_card(tx, current, clock=clock)
            await tx.promotions.release(current.id)
            await issue_documents(tx, current, shop=shop, ids=ids, now=clock.now())  # the refund's credit note
            await tx.commit()
            return "cancelled"

    return await retry_on_conflict(cancel)  # still conflicting after that: the consumer retries


async def cancel_unpaid(uow: Uow, order_id: str, clock: Clock, dispatch: Dispatch, *, reason: str) -> None:
    """Cancel an order still waiting for its payment (the provider cancelled it, or the shopper
    abandoned it): its gift card and promotion uses come back, its stock hold is released."""
    async with uow() as tx:
        order = await tx.orders.get(order_id)
        if order.status is not OrderStatus.PENDING:
            return
        order.cancel(now=clock.now(), actor="system:reconciler", reason=reason)
        await tx.orders.save(order)
        await return_gift_card(tx, order, clock=clock)
        await tx.promotions.release(order.id)
        await tx.commit()
    reservation_id = order.reservation_id
    if reservation_id:
        await release_hold(dispatch, reservation_id)
