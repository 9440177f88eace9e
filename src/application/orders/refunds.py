"""Money back for an order: first through the payment provider (what it captured), the rest back onto
the gift card the order spent. Idempotent by ``key`` at both ends."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from application.ports.clock import Clock
from application.ports.payments import PaymentGateway
from domain.orders.order import Order


async def refund_money(
    order: Order, amount: int, *, key: str, uow: Callable[[], Any], gateways: Mapping[str, PaymentGateway],
    clock: Clock,
) -> list[tuple[str, int]]:
    """Refund ``amount`` of ``order``; the (reference, amount) parts to record on the order."""
    parts: list[tuple[str, int]] = []
    online = min(amount, order.refundable_online)
    if online > 0:
        payment = next(p.reference for p in order.payments if p.status == "succeeded")
        refund = await gateways[order.payment_provider].refund(payment, amount=online, idempotency_key=key)
        parts.append((refund.reference, online))
    rest = amount - online
    if rest > 0 and order.gift_card_code:
        async with uow() as tx:
            card = await tx.gift_cards.get(order.gift_card_code)
            card.refund(rest, reference=order.id, key=key, now=clock.now())  # once per key
            await tx.gift_cards.save(card)
            await tx.commit()
        parts.append((f"giftcard:{key}", rest))
    return parts


async def return_gift_card(tx: Any, order: Order, *, clock: Clock) -> None:
    """A pending order that spent a gift card is cancelled: the card gets its money back, in the
    cancelling transaction (once: the refund key is the order)."""
    if not order.gift_card_code or order.gift_card_amount <= 0:
        return
    card = await tx.gift_cards.get(order.gift_card_code)
    card.refund(order.gift_card_amount, reference=order.id, key=f"cancel-{order.id}", now=clock.now())
    await tx.gift_cards.save(card)
