"""Checkouts and orders: JSONB documents of the aggregates, with the columns queries filter on."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.postgres import tables as t
from application.codec import aggregate_from_builtins, aggregate_to_builtins
from domain.checkout.checkout import Checkout
from domain.orders.order import Order, OrderStatus
from domain.shared.errors import ConcurrencyConflict, Conflict, NotFound
from domain.shared.events import Aggregate

_co, _o = t.checkouts, t.orders


class CheckoutNotFound(NotFound):
    pass


class OrderNotFound(NotFound):
    pass


class PostgresCheckouts:
    def __init__(self, conn: AsyncConnection, seen: list[Aggregate]) -> None:
        self._conn = conn
        self._seen = seen

    @staticmethod
    def _row(checkout: Checkout) -> dict[str, Any]:
        return {
            "owner": f"{checkout.owner.kind.value}:{checkout.owner.id}", "state": checkout.state.value,
            "version": checkout.version, "data": aggregate_to_builtins(checkout), "updated_at": checkout.updated_at,
        }

    async def add(self, checkout: Checkout) -> None:
        await self._conn.execute(insert(_co).values(id=checkout.id, **self._row(checkout)))
        self._seen.append(checkout)

    async def get(self, checkout_id: str) -> Checkout:
        row = (await self._conn.execute(select(_co.c.data).where(_co.c.id == checkout_id))).first()
        if row is None:
            raise CheckoutNotFound(f"no checkout {checkout_id}")
        checkout = aggregate_from_builtins(row.data, Checkout)
        self._seen.append(checkout)
        return checkout

    async def save(self, checkout: Checkout, *, expected_version: int) -> None:
        result = await self._conn.execute(
            update(_co).where(_co.c.id == checkout.id, _co.c.version == expected_version).values(**self._row(checkout))
        )
        if result.rowcount != 1:
            raise ConcurrencyConflict(f"checkout {checkout.id} changed since it was read")


class PostgresOrders:
    def __init__(self, conn: AsyncConnection, seen: list[Aggregate]) -> None:
        self._conn = conn
        self._seen = seen

    @staticmethod
    def _row(order: Order) -> dict[str, Any]:
        return {
            "number": order.number, "checkout_id": order.checkout_id, "customer_id": order.customer_id,
            "email": order.email, "status": order.status.value, "currency": order.totals.currency,
            "total": order.totals.total, "payment_provider": order.payment_provider,
            "payment_references": [p.reference for p in order.payments], "placed_at": order.placed_at,
            "version": order.version, "data": aggregate_to_builtins(order),
        }

    async def add(self, order: Order) -> None:
        try:
            async with self._conn.begin_nested():
                await self._conn.execute(insert(_o).values(id=order.id, **self._row(order)))
        except IntegrityError:
            raise Conflict(f"checkout {order.checkout_id} already has an order") from None
        self._seen.append(order)

    def _load(self, row: Any) -> Order:
        order = aggregate_from_builtins(row.data, Order)
        self._seen.append(order)
        return order

    async def get(self, order_id: str) -> Order:
        row = (await self._conn.execute(select(_o.c.data).where(_o.c.id == order_id))).first()
        if row is None:
            raise OrderNotFound(f"no order {order_id}")
        return self._load(row)

    async def by_checkout(self, checkout_id: str) -> Order | None:
        row = (await self._conn.execute(select(_o.c.data).where(_o.c.checkout_id == checkout_id))).first()
        return self._load(row) if row else None

    async def by_payment(self, reference: str) -> Order | None:
        row = (await self._conn.execute(
            select(_o.c.data).where(_o.c.payment_references.contains([reference]))
        )).first()
        return self._load(row) if row else None

    async def save(self, order: Order, *, expected_version: int) -> None:
        result = await self._conn.execute(
            update(_o).where(_o.c.id == order.id, _o.c.version == expected_version).values(**self._row(order))
        )
        if result.rowcount != 1:
            raise ConcurrencyConflict(f"order {order.id} changed since it was read")

    async def count_for_customer(self, customer_id: str) -> int:
        return int(await self._conn.scalar(
            select(func.count()).select_from(_o).where(_o.c.customer_id == customer_id)
        ) or 0)

    async def pending_payments(self, *, provider: str, placed_before: datetime, limit: int) -> list[Order]:
        rows = (await self._conn.execute(
            select(_o.c.data)
            .where(_o.c.status == OrderStatus.PENDING.value, _o.c.payment_provider == provider,
                   _o.c.placed_at < placed_before)
            .order_by(_o.c.placed_at).limit(limit)
        )).all()
        return [self._load(row) for row in rows]
