"""The analytics store in the ``analytics`` schema: inserts are idempotent by event id."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import BigInteger, Integer, Subquery, func, select
from sqlalchemy.dialects.postgresql import JSONB, distinct_on, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.postgres import tables as t
from application.analytics.reports import Funnel, ProductSales, ProductViews, PromotionImpact, TermCount
from application.ports.outbox import OutboxMessage
from domain.analytics.tracking import Kind, TrackedEvent

PAID_TOPIC_PREFIX = "orders.order_paid"
PLACED_TOPIC_PREFIX = "orders.order_placed"


def day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    from datetime import UTC

    return datetime.combine(start, time.min, UTC), datetime.combine(end + timedelta(days=1), time.min, UTC)


class PostgresAnalyticsStore:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def record_tracked(self, events: list[TrackedEvent]) -> int:
        if not events:
            return 0
        rows = [
            {
                "id": e.id, "kind": e.kind.value, "occurred_at": e.occurred_at, "anonymous_id": e.anonymous_id,
                "customer_id": e.customer_id, "properties": e.properties,
            }
            for e in events
        ]
        result = await self._conn.execute(
            insert(t.tracked_events).values(rows).on_conflict_do_nothing().returning(t.tracked_events.c.id)
        )
        return len(result.all())

    async def record_domain_event(
        self, *, event_id: str, topic: str, aggregate_id: str, occurred_at: Any, payload: dict[str, Any]
    ) -> bool:
        result = await self._conn.execute(
            insert(t.domain_event_facts)
            .values(event_id=event_id, topic=topic, aggregate_id=aggregate_id, occurred_at=occurred_at, payload=payload)
            .on_conflict_do_nothing()
            .returning(t.domain_event_facts.c.event_id)
        )
        return result.first() is not None

    async def record_domain_events(self, messages: list[OutboxMessage]) -> int:
        if not messages:
            return 0
        rows = [
            {"event_id": m.id, "topic": m.topic, "aggregate_id": m.aggregate_id, "occurred_at": m.occurred_at,
             "payload": m.payload}
            for m in messages
        ]
        result = await self._conn.execute(
            insert(t.domain_event_facts).values(rows).on_conflict_do_nothing()
            .returning(t.domain_event_facts.c.event_id)
        )
        return len(result.all())

    async def funnel(self, start: date, end: date) -> Funnel:
        lower, upper = day_bounds(start, end)
        te = t.tracked_events

        def shoppers(kind: Kind) -> Any:
            return (
                select(func.count(func.distinct(te.c.anonymous_id)))
                .where(te.c.kind == kind.value, te.c.occurred_at >= lower, te.c.occurred_at < upper)
                .scalar_subquery()
            )

        de = t.domain_event_facts
        paid = (
            select(func.count(func.distinct(de.c.aggregate_id)))
            .where(de.c.topic.startswith(PAID_TOPIC_PREFIX), de.c.occurred_at >= lower, de.c.occurred_at < upper)
            .scalar_subquery()
        )
        row = (
            await self._conn.execute(
                select(
                    shoppers(Kind.PRODUCT_VIEWED), shoppers(Kind.ADDED_TO_CART), shoppers(Kind.CHECKOUT_STARTED), paid
                )
            )
        ).one()
        return Funnel(viewed=row[0], added_to_cart=row[1], checkout_started=row[2], paid=row[3])


    async def search_terms(self, start: date, end: date, *, zero_results: bool, limit: int) -> list[TermCount]:
        lower, upper = day_bounds(start, end)
        te = t.tracked_events
        term = func.lower(func.trim(te.c.properties["query"].astext))
        query = (
            select(term.label("term"), func.count().label("searches"),
                   func.count(func.distinct(te.c.anonymous_id)).label("shoppers"))
            .where(te.c.kind == Kind.SEARCH_PERFORMED.value, te.c.occurred_at >= lower, te.c.occurred_at < upper)
            .group_by(term)
            .order_by(func.count().desc(), term)
            .limit(limit)
        )
        if zero_results:
            query = query.where(te.c.properties["results"].astext == "0")
        rows = (await self._conn.execute(query)).all()
        return [TermCount(term=r.term, searches=r.searches, shoppers=r.shoppers) for r in rows]

    async def top_viewed(self, start: date, end: date, *, limit: int) -> list[ProductViews]:
        lower, upper = day_bounds(start, end)
        te = t.tracked_events
        product = te.c.properties["product_id"].astext
        rows = (
            await self._conn.execute(
                select(product.label("product_id"), func.count().label("views"),
                       func.count(func.distinct(te.c.anonymous_id)).label("shoppers"))
                .where(te.c.kind == Kind.PRODUCT_VIEWED.value, te.c.occurred_at >= lower, te.c.occurred_at < upper)
                .group_by(product)
                .order_by(func.count().desc(), product)
                .limit(limit)
            )
        ).all()
        return [ProductViews(product_id=r.product_id, views=r.views, shoppers=r.shoppers) for r in rows]

    async def top_products(
        self, start: date, end: date, *, currency: str | None, limit: int
    ) -> list[ProductSales]:
        orders = _paid_orders(start, end, currency)
        line = func.jsonb_array_elements(orders.c.payload["lines"], type_=JSONB).column_valued(
            "line", joins_implicitly=True
        )
        sku = line[0].astext
        units = func.sum(line[1].astext.cast(BigInteger))
        revenue = func.sum(line[2].astext.cast(BigInteger))
        ranked = (
            select(
                sku.label("sku"), orders.c.currency, func.count(func.distinct(orders.c.aggregate_id)).label("orders"),
                units.label("units"), revenue.label("revenue"),
                func.row_number()
                .over(partition_by=orders.c.currency, order_by=(revenue.desc(), units.desc(), sku))
                .label("rank"),
            )
            .select_from(orders)
            .group_by(sku, orders.c.currency)
            .subquery("ranked")
        )
        rows = (
            await self._conn.execute(
                select(ranked).where(ranked.c.rank <= limit).order_by(ranked.c.currency, ranked.c.rank)
            )
        ).all()
        return [
            ProductSales(sku=r.sku, currency=r.currency, orders=r.orders, units=int(r.units), revenue=int(r.revenue))
            for r in rows
        ]

    async def promotion_impact(self, start: date, end: date, *, currency: str | None) -> list[PromotionImpact]:
        orders = _paid_orders(start, end, currency)
        applied = func.jsonb_array_elements(orders.c.payload["promotions"], type_=JSONB).column_valued(
            "applied", joins_implicitly=True
        )
        promotion_id, version = applied[0].astext, applied[1].astext.cast(Integer)
        # First per order (a promotion spread over several lines is one use), then per version.
        per_order = (
            select(
                orders.c.currency, orders.c.total,
                promotion_id.label("promotion_id"), version.label("version"),
                func.sum(applied[2].astext.cast(BigInteger)).label("amount"),
            )
            .select_from(orders)
            .group_by(orders.c.aggregate_id, orders.c.currency, orders.c.total, promotion_id, version)
            .subquery("per_order")
        )
        discount = func.sum(per_order.c.amount)
        rows = (
            await self._conn.execute(
                select(
                    per_order.c.promotion_id, per_order.c.version, per_order.c.currency,
                    func.count().label("orders"), discount.label("discount"),
                    func.sum(per_order.c.total).label("revenue"),
                )
                .group_by(per_order.c.promotion_id, per_order.c.version, per_order.c.currency)
                .order_by(per_order.c.currency, discount.desc(), per_order.c.promotion_id, per_order.c.version)
            )
        ).all()
        return [
            PromotionImpact(
                promotion_id=r.promotion_id, version=r.version, currency=r.currency, orders=r.orders,
                discount=int(r.discount), revenue=int(r.revenue),
            )
            for r in rows
        ]


def _paid_orders(start: date, end: date, currency: str | None) -> Subquery:
    """The OrderPlaced facts of orders with a paid fact in the range, one per order: facts are unique by
    event id, so a replayed delivery never counts twice."""
    lower, upper = day_bounds(start, end)
    de = t.domain_event_facts
    paid = select(de.c.aggregate_id).where(
        de.c.topic.startswith(PAID_TOPIC_PREFIX), de.c.occurred_at >= lower, de.c.occurred_at < upper
    )
    currency_of = de.c.payload["currency"].astext
    placed = (
        select(
            de.c.aggregate_id, de.c.payload, currency_of.label("currency"),
            de.c.payload["total"].astext.cast(BigInteger).label("total"),
        )
        .ext(distinct_on(de.c.aggregate_id))
        .where(de.c.topic.startswith(PLACED_TOPIC_PREFIX), de.c.aggregate_id.in_(paid))
        .order_by(de.c.aggregate_id, de.c.occurred_at)
    )
    if currency is not None:
        placed = placed.where(currency_of == currency)
    return placed.subquery("paid_orders")
