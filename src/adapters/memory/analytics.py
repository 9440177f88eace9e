from __future__ import annotations

from datetime import date
from typing import Any

from adapters.memory.database import MemoryDatabase
from application.analytics.reports import Funnel, ProductSales, ProductViews, PromotionImpact, TermCount
from application.ports.outbox import OutboxMessage
from domain.analytics.tracking import Kind, TrackedEvent

PAID_TOPIC_PREFIX = "orders.order_paid"
PLACED_TOPIC_PREFIX = "orders.order_placed"


class MemoryAnalyticsStore:
    def __init__(self, data: MemoryDatabase) -> None:
        self._data = data

    @property
    def _tracked(self) -> dict[str, TrackedEvent]:
        return self._data.extra.setdefault("tracked_events", {})  # type: ignore[no-any-return]

    @property
    def _facts(self) -> dict[str, dict[str, Any]]:
        return self._data.extra.setdefault("domain_event_facts", {})  # type: ignore[no-any-return]

    async def record_tracked(self, events: list[TrackedEvent]) -> int:
        new = [e for e in events if e.id not in self._tracked]
        for event in new:
            self._tracked[event.id] = event
        return len(new)

    async def record_domain_event(
        self, *, event_id: str, topic: str, aggregate_id: str, occurred_at: Any, payload: dict[str, Any]
    ) -> bool:
        if event_id in self._facts:
            return False
        self._facts[event_id] = {
            "topic": topic, "aggregate_id": aggregate_id, "occurred_at": occurred_at, "payload": payload,
        }
        return True

    async def record_domain_events(self, messages: list[OutboxMessage]) -> int:
        return sum([
            await self.record_domain_event(event_id=m.id, topic=m.topic, aggregate_id=m.aggregate_id,
                                           occurred_at=m.occurred_at, payload=m.payload)
            for m in messages
        ])

    async def funnel(self, start: date, end: date) -> Funnel:
        def shoppers(kind: Kind) -> int:
            return len(
                {
                    e.anonymous_id for e in self._tracked.values()
                    if e.kind is kind and start <= e.occurred_at.date() <= end
                }
            )

        paid = {
            f["aggregate_id"] for f in self._facts.values()
            if f["topic"].startswith(PAID_TOPIC_PREFIX) and start <= f["occurred_at"].date() <= end
        }
        return Funnel(
            viewed=shoppers(Kind.PRODUCT_VIEWED), added_to_cart=shoppers(Kind.ADDED_TO_CART),
            checkout_started=shoppers(Kind.CHECKOUT_STARTED), paid=len(paid),
        )

    def _between(self, start: date, end: date) -> list[TrackedEvent]:
        return [e for e in self._tracked.values() if start <= e.occurred_at.date() <= end]

    async def search_terms(self, start: date, end: date, *, zero_results: bool, limit: int) -> list[TermCount]:
        return _search_terms(self._between(start, end), zero_results=zero_results, limit=limit)

    async def top_viewed(self, start: date, end: date, *, limit: int) -> list[ProductViews]:
        counts: dict[str, tuple[int, set[str]]] = {}
        for event in self._between(start, end):
            if event.kind is Kind.PRODUCT_VIEWED:
                product = str(event.properties.get("product_id"))
                views, shoppers = counts.get(product, (0, set()))
                counts[product] = (views + 1, shoppers | {event.anonymous_id})
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1][0], kv[0]))[:limit]
        return [ProductViews(product_id=p, views=n, shoppers=len(s)) for p, (n, s) in ranked]


    def _paid_orders(self, start: date, end: date, currency: str | None) -> list[tuple[str, dict[str, Any]]]:
        """The OrderPlaced payloads of orders with a paid fact between the dates."""
        paid = {
            f["aggregate_id"] for f in self._facts.values()
            if f["topic"].startswith(PAID_TOPIC_PREFIX) and start <= f["occurred_at"].date() <= end
        }
        placed: dict[str, dict[str, Any]] = {}
        for fact in self._facts.values():
            if fact["topic"].startswith(PLACED_TOPIC_PREFIX) and fact["aggregate_id"] in paid:
                placed.setdefault(fact["aggregate_id"], fact["payload"])
        return [(o, p) for o, p in placed.items() if currency is None or p["currency"] == currency]

    async def top_products(
        self, start: date, end: date, *, currency: str | None, limit: int
    ) -> list[ProductSales]:
        totals: dict[tuple[str, str], tuple[set[str], int, int]] = {}
        for order_id, order in self._paid_orders(start, end, currency):
            for sku, quantity, line_total in order["lines"]:
                orders, units, revenue = totals.get((order["currency"], sku), (set(), 0, 0))
                totals[(order["currency"], sku)] = (
                    orders | {order_id}, units + quantity, revenue + line_total,
                )
        ranked = sorted(totals.items(), key=lambda kv: (kv[0][0], -kv[1][2], -kv[1][1], kv[0][1]))
        rows: list[ProductSales] = []
        for (cur, sku), (orders, units, revenue) in ranked:
            if sum(1 for r in rows if r.currency == cur) < limit:
                rows.append(ProductSales(sku=sku, currency=cur, orders=len(orders), units=units, revenue=revenue))
        return rows

    async def promotion_impact(self, start: date, end: date, *, currency: str | None) -> list[PromotionImpact]:
        totals: dict[tuple[str, str, int], tuple[int, int, int]] = {}
        for _, order in self._paid_orders(start, end, currency):
            given: dict[tuple[str, int], int] = {}
            for promotion_id, version, amount in order["promotions"]:
                given[(promotion_id, version)] = given.get((promotion_id, version), 0) + amount
            for (promotion_id, version), amount in given.items():
                key = (order["currency"], promotion_id, version)
                orders, discount, revenue = totals.get(key, (0, 0, 0))
                totals[key] = (orders + 1, discount + amount, revenue + order["total"])
        ranked = sorted(totals.items(), key=lambda kv: (kv[0][0], -kv[1][1], kv[0][1], kv[0][2]))
        return [
            PromotionImpact(promotion_id=pid, version=v, currency=cur, orders=n, discount=d, revenue=r)
            for (cur, pid, v), (n, d, r) in ranked
        ]


def _search_terms(events: list[TrackedEvent], *, zero_results: bool, limit: int) -> list[TermCount]:
    counts: dict[str, tuple[int, set[str]]] = {}
    for event in events:
        if event.kind is not Kind.SEARCH_PERFORMED:
            continue
        if zero_results and event.properties.get("results") != 0:
            continue
        term = str(event.properties.get("query", "")).strip().lower()
        searches, shoppers = counts.get(term, (0, set()))
        counts[term] = (searches + 1, shoppers | {event.anonymous_id})
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1][0], kv[0]))[:limit]
    return [TermCount(term=t, searches=n, shoppers=len(s)) for t, (n, s) in ranked]


class InlineTrackingQueue:
    """The fake queue stores the batch at once, through the same use case the worker runs."""

    def __init__(self, uow: Any) -> None:
        self._uow = uow
        self.batches: list[list[TrackedEvent]] = []

    async def submit(self, events: list[TrackedEvent]) -> None:
        from application.analytics.handlers import store_tracked_events

        self.batches.append(events)
        await store_tracked_events(events, uow=self._uow)
