"""Tracking intake, domain events as facts, and the funnel report."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from application.analytics.ports import AnalyticsUnitOfWork, TrackingQueue
from application.analytics.reports import Funnel, ProductSales, ProductViews, PromotionImpact, TermCount
from application.messaging.registry import Command, handler
from application.ports.clock import Clock
from application.ports.outbox import OutboxMessage
from domain.analytics.tracking import TrackedEvent, check_batch


@dataclass(frozen=True, slots=True, kw_only=True)
class TrackEvents(Command[int]):
    events: list[TrackedEvent]


@handler
async def track_events(cmd: TrackEvents, *, tracking_queue: TrackingQueue, clock: Clock) -> int:
    """Check the batch now (so the client hears about bad input), store it later in a worker."""
    check_batch(cmd.events, now=clock.now())
    await tracking_queue.submit(cmd.events)
    return len(cmd.events)


async def store_tracked_events(events: list[TrackedEvent], *, uow: Callable[[], AnalyticsUnitOfWork]) -> int:
    async with uow() as tx:
        stored = await tx.analytics.record_tracked(events)
        await tx.commit()
    return stored


async def record_domain_events(messages: list[OutboxMessage], uow: AnalyticsUnitOfWork) -> None:
    """Every committed domain event becomes an analytics fact, keyed by its outbox id (a burst: one statement)."""
    await uow.analytics.record_domain_events(messages)


async def funnel_report(start: date, end: date, *, uow: Callable[[], AnalyticsUnitOfWork]) -> Funnel:
    async with uow() as tx:
        return await tx.analytics.funnel(start, end)


async def search_terms_report(
    start: date, end: date, *, zero_results: bool, limit: int, uow: Callable[[], AnalyticsUnitOfWork]
) -> list[TermCount]:
    async with uow() as tx:
        return await tx.analytics.search_terms(start, end, zero_results=zero_results, limit=limit)


async def top_viewed_report(
    start: date, end: date, *, limit: int, uow: Callable[[], AnalyticsUnitOfWork]
) -> list[ProductViews]:
    async with uow() as tx:
        return await tx.analytics.top_viewed(start, end, limit=limit)


async def top_products_report(
    start: date, end: date, *, currency: str | None, limit: int, uow: Callable[[], AnalyticsUnitOfWork]
) -> list[ProductSales]:
    async with uow() as tx:
        return await tx.analytics.top_products(start, end, currency=currency, limit=limit)


async def promotions_report(
    start: date, end: date, *, currency: str | None, uow: Callable[[], AnalyticsUnitOfWork]
) -> list[PromotionImpact]:
    async with uow() as tx:
        return await tx.analytics.promotion_impact(start, end, currency=currency)
