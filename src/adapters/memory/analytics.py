from __future__ import annotations

from datetime import date
from typing import Any

from adapters.memory.store import MemoryDatabase
from application.analytics.reports import Funnel
from domain.analytics.tracking import Kind, TrackedEvent

PAID_TOPIC_PREFIX = "orders.order_paid"


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
        self._facts[event_id] = {"topic": topic, "aggregate_id": aggregate_id, "occurred_at": occurred_at}
        return True

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


class InlineTrackingQueue:
    """The fake queue stores the batch at once, through the same use case the worker runs."""

    def __init__(self, uow: Any) -> None:
        self._uow = uow
        self.batches: list[list[TrackedEvent]] = []

    async def submit(self, events: list[TrackedEvent]) -> None:
        from application.analytics.handlers import store_tracked_events

        self.batches.append(events)
        await store_tracked_events(events, uow=self._uow)
