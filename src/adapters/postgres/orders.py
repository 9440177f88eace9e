"""Checkouts and orders: JSONB documents of the aggregates, with the columns queries filter on."""

from __future__ import annotations

import functools
from datetime import date, datetime
from typing import Any

import msgspec
from sqlalchemy import delete, exists, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.postgres import tables as t
from adapters.postgres.pipeline import Pipeline
from adapters.postgres.versions import LoadedVersions
from application.checkout.errors import CheckoutRecordNotFound
from application.messaging.codec import aggregate_from_builtins, aggregate_to_builtins
from application.orders.errors import OrderNotFound
from application.orders.read_models import DailySales, OrderFilter, OrderPage, OrderSummary, SalesDelta
from application.orders.views import decode_cursor, next_cursor
from domain.checkout.checkout import Checkout
from domain.orders.order import Order, OrderStatus
from domain.shared.errors import ConcurrencyConflict
from domain.shared.events import Aggregate

_co, _o = t.checkouts, t.orders

# The checkout's hot path in hand-written SQL, prepared once per connection: every storefront step
# reads the checkout and saves it; the save and the order insert are staged for the commit, where
# they travel with the outbox rows as one statement (adapters.postgres.pipeline).
_CHECKOUT = "SELECT data FROM checkouts WHERE id = %s"
_ADD_CHECKOUT = """
INSERT INTO checkouts (id, owner, state, version, data, updated_at) VALUES (%s, %s, %s, %s, %s::jsonb, %s)
"""
_SAVE_CHECKOUT = """
UPDATE checkouts SET owner = %s, state = %s, version = %s, data = %s::jsonb, updated_at = %s
WHERE id = %s AND version = %s
"""
_ADD_ORDER = """
INSERT INTO orders (id, number, checkout_id, customer_id, email, status, currency, total, payment_provider,
    payment_references, placed_at, version, data)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s, %s::jsonb)
"""


def _json(value: Any) -> str:
    return msgspec.json.encode(value).decode()


class PostgresCheckouts:
    def __init__(self, conn: AsyncConnection, seen: list[Aggregate], pipeline: Pipeline) -> None:
        self._conn = conn
        self._seen = seen
        self._pipeline = pipeline
        self._versions = LoadedVersions("checkout")

    @staticmethod
    def _row(checkout: Checkout) -> list[Any]:
        return [
            f"{checkout.owner.kind.value}:{checkout.owner.id}", checkout.state.value, checkout.version,
            _json(aggregate_to_builtins(checkout)), checkout.updated_at,
        ]

    async def add(self, checkout: Checkout) -> None:
        self._pipeline.stage(_ADD_CHECKOUT, [checkout.id, *self._row(checkout)])
        self._seen.append(checkout)
        self._versions.remember(checkout.id, checkout.version)

    async def get(self, checkout_id: str) -> Checkout:
        rows = await self._pipeline.read(_CHECKOUT, (checkout_id,))
        if not rows:
            raise CheckoutRecordNotFound(f"no checkout {checkout_id}")
        checkout = aggregate_from_builtins(rows[0].data, Checkout)
        self._seen.append(checkout)
        self._versions.remember(checkout.id, checkout.version)
        return checkout

    async def save(self, checkout: Checkout) -> None:
        """Staged: checked at the commit, where a checkout saved by someone else since it was read
        refuses the whole unit of work (``ConcurrencyConflict``)."""
        expected = self._versions.expected(checkout.id)
        if checkout.version == expected:
            return  # unchanged since it was loaded
        self._pipeline.stage(
            _SAVE_CHECKOUT, [*self._row(checkout), checkout.id, expected], expect_one=f"checkout {checkout.id}"
        )
        self._versions.remember(checkout.id, checkout.version)

    def track(self, checkout: Checkout) -> None:
        self._seen.append(checkout)
        self._versions.remember(checkout.id, checkout.version)


# A buyer's unpaid orders: each way of naming the buyer matches one partial index of migration 0022
# (the status written out, so that a prepared statement's generic plan still matches them).
_UNPAID_BY = {"email": "email = %s", "customer": "customer_id = %s", "guest": "(data ->> 'guest_id') = %s"}


@functools.cache
def _unpaid_by(kinds: tuple[str, ...]) -> str:
    whose = " OR ".join(_UNPAID_BY[kind] for kind in kinds)
    return (
        f"SELECT data FROM orders WHERE status = '{OrderStatus.PENDING.value}' AND payment_provider = %s "  # noqa: S608
        f"AND ({whose}) ORDER BY placed_at"
    )


class PostgresOrders:
    def __init__(self, conn: AsyncConnection, seen: list[Aggregate], pipeline: Pipeline) -> None:
        self._conn = conn
        self._seen = seen
        self._pipeline = pipeline
        self._versions = LoadedVersions("order")

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
        """Staged for the commit: a second order of the same checkout (a raced place) is refused
        there by the unique index, as a ``Conflict``."""
        self._pipeline.stage(_ADD_ORDER, [
            order.id, order.number, order.checkout_id, order.customer_id, order.email, order.status.value,
            order.totals.currency, order.totals.total, order.payment_provider,
            _json([p.reference for p in order.payments]), order.placed_at, order.version,
            _json(aggregate_to_builtins(order)),
        ])
        self._seen.append(order)
        self._versions.remember(order.id, order.version)

    def _load(self, row: Any) -> Order:
        order = aggregate_from_builtins(row.data, Order)
        self._seen.append(order)
        self._versions.remember(order.id, order.version)
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

    async def save(self, order: Order) -> None:
        expected = self._versions.expected(order.id)
        if order.version == expected:
            return  # unchanged since it was loaded
        result = await self._conn.execute(
            update(_o).where(_o.c.id == order.id, _o.c.version == expected).values(**self._row(order))
        )
        if result.rowcount != 1:
            raise ConcurrencyConflict(f"order {order.id} changed since it was read")
        self._versions.remember(order.id, order.version)

    async def all(self) -> list[Order]:
        rows = (await self._conn.execute(select(_o.c.data).order_by(_o.c.placed_at))).all()
        return [self._load(row) for row in rows]

    async def has_orders(self, customer_id: str) -> bool:
        # EXISTS stops at the first index entry: a cart read costs the same for a customer of 1,000 orders.
        return bool(await self._conn.scalar(select(exists().where(_o.c.customer_id == customer_id))))

    async def unpaid(
        self, *, provider: str, email: str | None, customer_id: str | None, guest_id: str | None,
    ) -> list[Order]:
        asked = [(kind, value) for kind, value in (("email", email), ("customer", customer_id), ("guest", guest_id))
                 if value]
        if not asked:
            return []
        sql = _unpaid_by(tuple(kind for kind, _ in asked))
        rows = await self._pipeline.read(sql, (provider, *(value for _, value in asked)))
        return [self._load(row) for row in rows]

    async def pending_payments(self, *, provider: str, placed_before: datetime, limit: int) -> list[Order]:
        rows = (await self._conn.execute(
            select(_o.c.data)
            .where(_o.c.status == OrderStatus.PENDING.value, _o.c.payment_provider == provider,
                   _o.c.placed_at < placed_before)
            .order_by(_o.c.placed_at).limit(limit)
        )).all()
        return [self._load(row) for row in rows]


_s, _d = t.read_order_summaries, t.read_daily_sales
_SALES = ("orders", "gross", "discounts", "tax", "shipping", "refunds")


class PostgresOrderViews:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def put_summary(self, summary: OrderSummary) -> None:
        values = msgspec.structs.asdict(summary)
        statement = pg_insert(_s).values(**values)
        await self._conn.execute(statement.on_conflict_do_update(
            index_elements=[_s.c.id], set_={k: statement.excluded[k] for k in values if k != "id"},
            where=_s.c.version < statement.excluded.version,
        ))

    async def page(self, query: OrderFilter) -> OrderPage:
        conditions: list[Any] = []
        if query.status is not None:
            conditions.append(_s.c.status == query.status)
        if query.customer_id is not None:
            conditions.append(_s.c.customer_id == query.customer_id)
        if query.placed_from is not None:
            conditions.append(_s.c.placed_at >= query.placed_from)
        if query.placed_to is not None:
            conditions.append(_s.c.placed_at < query.placed_to)
        if query.min_total is not None:
            conditions.append(_s.c.total >= query.min_total)
        if query.max_total is not None:
            conditions.append(_s.c.total <= query.max_total)
        if query.cursor is not None:
            placed_at, order_id = decode_cursor(query.cursor)
            conditions.append(tuple_(_s.c.placed_at, _s.c.id) < tuple_(placed_at, order_id))
        rows = (await self._conn.execute(
            select(_s).where(*conditions).order_by(_s.c.placed_at.desc(), _s.c.id.desc()).limit(query.limit + 1)
        )).mappings().all()
        items = [OrderSummary(**row) for row in rows[: query.limit]]
        return OrderPage(items=items, next_cursor=next_cursor(items, more=len(rows) > query.limit))

    async def add_sales(self, delta: SalesDelta) -> None:
        values = {"day": delta.day, "currency": delta.currency, **{k: getattr(delta, k) for k in _SALES}}
        statement = pg_insert(_d).values(**values)
        await self._conn.execute(statement.on_conflict_do_update(
            index_elements=[_d.c.day, _d.c.currency], set_={k: _d.c[k] + statement.excluded[k] for k in _SALES},
        ))

    async def sales(self, *, start: date, end: date) -> list[DailySales]:
        rows = (await self._conn.execute(
            select(_d).where(_d.c.day >= start, _d.c.day <= end).order_by(_d.c.day, _d.c.currency)
        )).mappings().all()
        return [DailySales(net=row["gross"] - row["refunds"], **row) for row in rows]

    async def clear(self) -> None:
        await self._conn.execute(delete(_s))
        await self._conn.execute(delete(_d))
