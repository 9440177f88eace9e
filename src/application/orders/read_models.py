"""Order read models: the list staff filter and page through, each customer's history, and daily sales."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

import msgspec

from domain.orders.order import Order, OrderStatus
from domain.shared.shop import Shop


class OrderSummary(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    number: str
    status: str
    customer_id: str | None
    email: str
    currency: str
    total: int
    refunded: int
    placed_at: datetime
    version: int


class OrderPage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[OrderSummary]
    next_cursor: str | None


class DailySales(msgspec.Struct, frozen=True, kw_only=True):
    day: date
    currency: str
    orders: int
    gross: int  # what customers paid, tax and shipping included
    discounts: int
    tax: int
    shipping: int
    refunds: int
    net: int  # gross - refunds


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderFilter:
    status: str | None = None
    customer_id: str | None = None
    placed_from: datetime | None = None
    placed_to: datetime | None = None
    min_total: int | None = None
    max_total: int | None = None
    limit: int = 50
    cursor: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SalesDelta:
    day: date
    currency: str
    orders: int = 0
    gross: int = 0
    discounts: int = 0
    tax: int = 0
    shipping: int = 0
    refunds: int = 0
    keys: tuple[str, ...] = field(default=())


def summary_of(order: Order) -> OrderSummary:
    return OrderSummary(
        id=order.id, number=order.number, status=order.status.value, customer_id=order.customer_id,
        email=order.email, currency=order.totals.currency, total=order.totals.total, refunded=order.refunded,
        placed_at=order.placed_at, version=order.version,
    )


def sales_of(order: Order, shop: Shop) -> list[SalesDelta]:
    """What an order adds to daily sales, by the shop's days, from the write side alone (used by rebuilds)."""
    deltas = []
    paid = next((e.at for e in order.timeline if e.action == "pay"), None)
    if paid is not None:
        t = order.totals
        deltas.append(SalesDelta(day=shop.day_of(paid), currency=t.currency, orders=1, gross=t.total,
                                 discounts=t.discount, tax=t.tax, shipping=t.shipping))
    deltas += [SalesDelta(day=shop.day_of(r.at), currency=order.totals.currency, refunds=r.amount)
               for r in order.refunds]
    return deltas


class OrderViews(Protocol):
    async def put_summary(self, summary: OrderSummary) -> None:
        """Store the summary unless a newer version is stored (events may arrive out of order)."""
        ...

    async def page(self, query: OrderFilter) -> OrderPage: ...

    async def add_sales(self, delta: SalesDelta) -> None: ...

    async def sales(self, *, start: date, end: date) -> list[DailySales]: ...

    async def clear(self) -> None:
        """Empty every order read model (before a rebuild)."""
        ...


__all__ = ["OrderStatus"]
