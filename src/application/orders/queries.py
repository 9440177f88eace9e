"""The orders context's published reads for other contexts (payments finds the stock hold of an order
with ``reservation_of``). Order changes stay in ``handlers`` and ``stock``."""

from __future__ import annotations

from collections.abc import Callable

from application.orders.ports import OrderUnitOfWork
from domain.orders.order import Order
from domain.shared.errors import NotFound

Uow = Callable[[], OrderUnitOfWork]


async def reservation_of(uow: Uow, order: Order) -> str | None:
    """The stock hold of the order's checkout, if it still has one."""
    async with uow() as tx:
        try:
            checkout = await tx.checkouts.get(order.checkout_id)  # type: ignore[attr-defined]
        except NotFound:
            return None
    reservation_id: str | None = checkout.reservation_id
    return reservation_id
