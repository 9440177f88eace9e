"""The analytics store in the ``analytics`` schema: inserts are idempotent by event id."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.postgres import tables as t
from application.analytics.reports import Funnel, ProductViews, TermCount
from domain.analytics.tracking import Kind, TrackedEvent

PAID_TOPIC_PREFIX = "orders.order_paid"


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
