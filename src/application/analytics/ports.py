from __future__ import annotations

from datetime import date
from typing import Any, Protocol

from application.analytics.reports import Funnel, ProductSales, ProductViews, PromotionImpact, TermCount
from application.ports.outbox import OutboxMessage
from application.ports.unit_of_work import UnitOfWork
from domain.analytics.tracking import TrackedEvent


class AnalyticsStore(Protocol):
    async def record_tracked(self, events: list[TrackedEvent]) -> int:
        """Store events not stored before (by id); returns how many were new."""
        ...

    async def record_domain_event(
        self, *, event_id: str, topic: str, aggregate_id: str, occurred_at: Any, payload: dict[str, Any]
    ) -> bool:
        """Store one committed domain event as a fact; False if it was already there."""
        ...

    async def record_domain_events(self, messages: list[OutboxMessage]) -> int:
        """Store committed domain events as facts, in one go; returns how many were not there before."""
        ...

    async def funnel(self, start: date, end: date) -> Funnel:
        """Distinct shoppers per funnel step between ``start`` and ``end`` inclusive."""
        ...

    async def search_terms(self, start: date, end: date, *, zero_results: bool, limit: int) -> list[TermCount]:
        """Most searched terms (lower-cased, trimmed); only those that found nothing if asked."""
        ...

    async def top_viewed(self, start: date, end: date, *, limit: int) -> list[ProductViews]: ...

    async def top_products(
        self, start: date, end: date, *, currency: str | None, limit: int
    ) -> list[ProductSales]:
        """Best-selling SKUs by revenue, ``limit`` per currency, over orders paid between the dates."""
        ...

    async def promotion_impact(self, start: date, end: date, *, currency: str | None) -> list[PromotionImpact]:
        """Discount per promotion version over orders paid between the dates, largest first."""
        ...


class AnalyticsUnitOfWork(UnitOfWork, Protocol):
    analytics: AnalyticsStore


class TrackingQueue(Protocol):
    async def submit(self, events: list[TrackedEvent]) -> None:
        """Hand a checked batch to a worker that stores it (the request only waits for this)."""
        ...
