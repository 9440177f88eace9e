"""The order read models' consumers (the staff list and customer history, daily sales) and
``rebuild_order_views``, which recomputes them all from the write side."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from application.orders.queries import Uow
from application.orders.read_models import SalesDelta, sales_of, summary_of
from domain.orders.order import OrderPaid, OrderRefunded
from domain.shared.shop import Shop


async def project_order(event: Any, tx: Any) -> None:
    """Consumer of every order event: refresh the order's summary from the write side."""
    order = await tx.orders.get(event.aggregate_id)
    await tx.order_views.put_summary(summary_of(order))


def sales_projection(shop: Shop) -> Callable[[Any, Any], Awaitable[None]]:
    """Consumer of OrderPaid and OrderRefunded: add to the day's sales (once per event), the day being the
    shop's (``shop.time_zone``), not UTC's."""

    async def project_sales(event: Any, tx: Any) -> None:
        order = await tx.orders.get(event.aggregate_id)
        t = order.totals
        day = shop.day_of(event.occurred_at)
        if isinstance(event, OrderPaid):
            await tx.order_views.add_sales(SalesDelta(
                day=day, currency=t.currency, orders=1, gross=t.total, discounts=t.discount, tax=t.tax,
                shipping=t.shipping,
            ))
        elif isinstance(event, OrderRefunded):
            await tx.order_views.add_sales(SalesDelta(day=day, currency=t.currency, refunds=event.amount))

    return project_sales


async def rebuild_order_views(*, uow: Uow, shop: Shop | None = None) -> int:
    """Recompute every order read model from the write side (one transaction), sales by the shop's days."""
    async with uow() as tx:
        views = tx.order_views
        await views.clear()
        count = 0
        for order in await tx.orders.all():
            await views.put_summary(summary_of(order))
            for delta in sales_of(order, shop or Shop()):
                await views.add_sales(delta)
            count += 1
        await tx.commit()
    return count
