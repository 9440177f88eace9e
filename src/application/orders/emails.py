"""Order e-mails, sent by an outbox consumer: confirmation, shipped, refunded.

Keys are ``f"{template}:{event id}"``: the notifier sends each key at most once (see
``application.notifications.OnceNotifier``), whoever delivers the event and how often.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from application.orders.ports import OrderUnitOfWork
from application.ports.notifier import Notification, Notifier
from application.ports.outbox import OutboxMessage
from domain.orders.order import Order, OrderPlaced, OrderRefunded, OrderStatusChanged
from domain.shared.money import Money

Handler = Callable[[OutboxMessage, OrderUnitOfWork], Awaitable[None]]

CONFIRMATION = "order_confirmation"
SHIPPED = "order_shipped"
REFUNDED = "order_refunded"


def _money(amount: int, currency: str) -> str:
    return Money(amount, currency).display()


GREETING_CHARACTERS = 40  # the shopper chose this text: a mail to any address must not carry a message


def greeting(name: str) -> str:
    """The first word-bounded ``GREETING_CHARACTERS`` of the shopper's name, on one line."""
    text = " ".join(name.split())
    if len(text) <= GREETING_CHARACTERS:
        return text
    head = text[:GREETING_CHARACTERS]
    return (head.rsplit(" ", 1)[0] if " " in head else head) + "…"


def order_context(order: Order) -> dict[str, Any]:
    currency = order.totals.currency
    return {
        "name": greeting(order.shipping_address.name or order.email),
        "order_number": order.number,
        "order_id": order.id,
        "subtotal": _money(order.totals.subtotal, currency),
        "discount": _money(order.totals.discount, currency),
        "shipping": _money(order.totals.shipping, currency),
        "tax": _money(order.totals.tax, currency),
        "total": _money(order.totals.total, currency),
        "shipping_method": order.shipping_method,
        "lines": [
            {"name": line.name, "sku": line.sku, "quantity": str(line.quantity),
             "total": _money(line.total, currency)}
            for line in order.lines
        ],
    }


async def _send(notifier: Notifier, template: str, message: OutboxMessage, order: Order,
                **extra: Any) -> None:
    await notifier.send(Notification(
        to=order.email, template=template, key=f"{template}:{message.id}",
        context={**order_context(order), **extra},
    ))


def on_order_placed(notifier: Notifier) -> Handler:
    async def handle(message: OutboxMessage, tx: OrderUnitOfWork) -> None:
        await _send(notifier, CONFIRMATION, message, await tx.orders.get(message.aggregate_id))

    return handle


def on_status_changed(notifier: Notifier) -> Handler:
    """Only shipping is worth an e-mail among the plain status changes."""

    async def handle(message: OutboxMessage, tx: OrderUnitOfWork) -> None:
        if message.payload.get("action") != "ship":
            return
        order = await tx.orders.get(message.aggregate_id)
        shipped = [f for f in order.fulfilments if f.tracking_number]
        carrier, tracking = (shipped[-1].carrier, shipped[-1].tracking_number) if shipped else ("", "")
        await _send(notifier, SHIPPED, message, order, carrier=carrier, tracking_number=tracking)

    return handle


def on_order_refunded(notifier: Notifier) -> Handler:
    async def handle(message: OutboxMessage, tx: OrderUnitOfWork) -> None:
        order = await tx.orders.get(message.aggregate_id)
        amount = int(message.payload.get("amount", 0))
        await _send(notifier, REFUNDED, message, order, refund_amount=_money(amount, order.totals.currency))

    return handle


TOPICS: dict[str, Callable[[Notifier], Handler]] = {
    OrderPlaced.topic: on_order_placed,
    OrderStatusChanged.topic: on_status_changed,
    OrderRefunded.topic: on_order_refunded,
}
