"""The payments context: what a provider tells us after an order is placed, applied once per event
(webhooks), and the reconciler that asks the provider itself when a webhook never came.

Events arrive provider-neutral (``application.ports.payments.PaymentEvent``): each provider's
adapter translates its own event names; nothing here knows them."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from application.invoicing.issue import issue_documents
from application.messaging.registry import Dispatch, handler
from application.orders.queries import Uow
from application.orders.stock import cancel_unpaid, release_hold
from application.payments.commands import HandlePaymentEvent, ReconcilePayments
from application.payments.pay_later import PAY_LATER, PayLater
from application.payments.policy import PAYMENT_HOLD
from application.ports.clock import Clock, IdGenerator
from application.ports.payments import (
    DisputeClosed,
    DisputeOpened,
    PaymentEvent,
    PaymentFailed,
    PaymentGateway,
    PaymentStatus,
    PaymentSucceeded,
)
from domain.orders.order import Order, OrderStatus
from domain.shared.errors import DomainError, NotFound
from domain.shared.shop import Shop

logger = logging.getLogger(__name__)

RECONCILED_SUCCESS = "reconcile.succeeded"  # the ``type`` of a success the reconciler read from the provider


@handler
async def handle_payment_event(
    command: HandlePaymentEvent, *, uow: Uow, clock: Clock, dispatch: Dispatch,
    gateways: Mapping[str, PaymentGateway], ids: IdGenerator, shop: Shop,
) -> str:
    """Apply a verified webhook once (by event id). Out-of-order and repeated events are harmless:
    a success after a failure still pays; a failure after a success changes nothing. Money the
    order can no longer take (it was cancelled, or paid another way) is refunded, never kept."""
    event = command.event
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
        outcome = "ignored"
        try:
            if isinstance(event, PaymentSucceeded):
                already = any(p.reference == reference and p.status == "succeeded" for p in order.payments)
                if order.status is not OrderStatus.PENDING and not already:
                    orphan = True  # handled below: refunded first, then recorded (no commit here)
                else:
                    paid = order.pay(reference=reference, amount=event.amount, now=now, actor=actor)
                    outcome = "paid" if paid else "ignored"
            elif isinstance(event, PaymentFailed):
                outcome = "failed" if order.payment_failed(reference=reference, now=now, actor=actor) else "ignored"
            elif isinstance(event, DisputeOpened):
                outcome = "disputed" if order.open_dispute(
                    dispute_id=event.dispute_id, deadline=event.evidence_due, now=now, actor=actor,
                ) else "ignored"
            elif isinstance(event, DisputeClosed):
                outcome = "dispute-closed" if order.close_dispute(
                    won=event.won, refund_reference=f"dispute-{event.dispute_id}", now=now, actor=actor,
                ) else "ignored"
        except DomainError as error:
            # The provider reports something the order's state cannot take (a dispute on a cancelled
            # order, an amount that does not match): keep it on the timeline for the support team
            # instead of refusing the webhook forever.
            order.note(action=f"unapplied:{event.type}", detail=f"{event.id}: {error}", now=now, actor=actor)
            outcome = "noted"
        if not orphan:
            await tx.orders.save(order)  # writes nothing when the event changed nothing
            # A payment is invoiced, a lost dispute's chargeback credited, in this transaction: the
            # event id is marked here too, so a replay issues nothing.
            await issue_documents(tx, order, shop=shop, ids=ids, now=now)
            await tx.commit()
    if orphan:
        return await _refund_orphan(command.provider, event, uow=uow, clock=clock, gateways=gateways)
    reservation_id = order.reservation_id
    if outcome == "failed" and reservation_id:
        await release_hold(dispatch, reservation_id)  # the stock goes back on sale
    return outcome


async def _order_of_event(tx: Any, event: PaymentEvent) -> Order | None:
    order: Order | None = await tx.orders.by_payment(event.payment_reference) if event.payment_reference else None
    if order is None and event.order_id:
        try:
            order = await tx.orders.get(event.order_id)
        except NotFound:
            order = None
    return order


async def _refund_orphan(provider: str, event: PaymentEvent, *, uow: Uow, clock: Clock,
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
            order.note(action="orphan_payment_refunded", detail=f"{reference} {event.amount} -> {refund.reference}",
                       now=clock.now(), actor=f"{provider}:webhook")
            await tx.orders.save(order)
        await tx.commit()
    logger.warning("refunded payment %s: its order could no longer take it", reference)
    return "orphan-refunded"


@handler
async def reconcile_payments(
    command: ReconcilePayments, *, uow: Uow, gateways: Mapping[str, PaymentGateway], clock: Clock,
    dispatch: Dispatch, pay_later: PayLater, ids: IdGenerator, shop: Shop,
) -> dict[str, int]:
    """The safety net for lost webhooks: for each pending online order, the provider's word is
    applied as if its webhook had arrived (same handler, deduplicated by a synthetic event id).
    Paid → the order is paid (its stock secured by the OrderPaid consumer); cancelled at the
    provider, or still unpaid once its stock hold is long gone → voided at the provider and the
    order cancelled. A pay-later (manual) order not paid by its deadline is cancelled too, so its
    units go back on sale. Every pending order therefore leaves the work list, and one bad order
    never stops the run."""
    counts = {"paid": 0, "cancelled": 0, "waiting": 0, "errors": 0}
    now = clock.now()
    before = now - timedelta(seconds=command.older_than_seconds)
    abandoned = now - PAYMENT_HOLD - timedelta(minutes=10)
    for provider, gateway in gateways.items():
        if provider == PAY_LATER:  # staff settle invoices; the reconciler only enforces the deadline
            overdue = now - pay_later.deadline
            async with uow() as tx:
                late = await tx.orders.pending_payments(provider=provider, placed_before=overdue, limit=command.limit)
            for order in late:
                try:  # no money moved, so nothing to void at a provider
                    await cancel_unpaid(uow, order.id, clock, dispatch, reason="not paid by the deadline")
                    counts["cancelled"] += 1
                except Exception:
                    logger.exception("cancelling overdue order %s failed", order.id)
                    counts["errors"] += 1
            continue
        async with uow() as tx:
            waiting = await tx.orders.pending_payments(provider=provider, placed_before=before, limit=command.limit)
        for order in waiting:
            try:
                counts[await _reconcile_order(order, provider, gateway, abandoned=abandoned, uow=uow, clock=clock,
                                              dispatch=dispatch, gateways=gateways, ids=ids, shop=shop)] += 1
            except Exception:
                logger.exception("reconciling order %s failed", order.id)
                counts["errors"] += 1
    return counts


async def _reconcile_order(order: Order, provider: str, gateway: PaymentGateway, *, abandoned: datetime, uow: Uow,
                           clock: Clock, dispatch: Dispatch, gateways: Mapping[str, PaymentGateway], ids: IdGenerator,
                           shop: Shop) -> str:
    for record in order.payments:
        payment = await gateway.retrieve(record.reference)
        if payment.status is PaymentStatus.SUCCEEDED:
            await handle_payment_event(HandlePaymentEvent(provider=provider, event=PaymentSucceeded(
                id=f"reconcile:{payment.reference}:succeeded", type=RECONCILED_SUCCESS,
                created=clock.now(), payment_reference=payment.reference,
                amount=payment.amount_received or payment.amount, currency=payment.currency,
            )), uow=uow, clock=clock, dispatch=dispatch, gateways=gateways, ids=ids, shop=shop)
            return "paid"
    cancelled = all([
        (await gateway.retrieve(r.reference)).status is PaymentStatus.CANCELED for r in order.payments
    ]) if order.payments else False
    if cancelled or order.placed_at < abandoned:
        await _void(order, gateway)
        await cancel_unpaid(uow, order.id, clock, dispatch, reason="payment cancelled or abandoned")
        return "cancelled"
    return "waiting"


async def _void(order: Order, gateway: PaymentGateway) -> None:
    """Cancel every open payment of the order at its provider: it must never be paid later."""
    for record in order.payments:
        current = await gateway.retrieve(record.reference)
        if current.status not in (PaymentStatus.CANCELED, PaymentStatus.SUCCEEDED):
            await gateway.cancel(record.reference)
