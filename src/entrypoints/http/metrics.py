"""Prometheus metrics: per-route request rate and latency, plus operational gauges read at scrape time.

One process-local registry (the API runs one process per container; with several uvicorn
workers use PROMETHEUS_MULTIPROC_DIR — not wired yet).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Controller, Request, Response, get
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from application.drops.queue import room_figures
from application.inventory.queries import inventory_gauges
from entrypoints.http.pace import TOO_EARLY
from entrypoints.http.problems import REFUSALS, problem

REGISTRY = CollectorRegistry(auto_describe=True)
REGISTRY.register(REFUSALS)
REGISTRY.register(TOO_EARLY)

REQUESTS = Counter(
    "emporium_http_requests_total", "HTTP requests by route template, method and status",
    ["method", "route", "status"], registry=REGISTRY,
)
LATENCY = Histogram(
    "emporium_http_request_duration_seconds", "HTTP request latency by route template",
    ["method", "route"], registry=REGISTRY,
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
OUTBOX_BACKLOG = Gauge("emporium_outbox_backlog", "Outbox messages not yet published", registry=REGISTRY)
OUTBOX_LAG = Gauge(
    "emporium_outbox_lag_seconds", "Age of the oldest unpublished outbox message", registry=REGISTRY
)
QUEUE_DEPTH = Gauge(
    "emporium_broker_queue_depth", "Messages waiting in a Dramatiq queue", ["queue"], registry=REGISTRY
)
# Filled by the contexts that own them (inventory, payments); declared here so the series exist.
RESERVATIONS_IN_FLIGHT = Gauge(
    "emporium_reservations_in_flight", "Stock reservations neither committed, released nor expired",
    registry=REGISTRY,
)
RECONCILIATION_DRIFT = Gauge(
    "emporium_inventory_reconciliation_drift", "Stock items whose balance differs from their ledger",
    registry=REGISTRY,
)
PAYMENT_FAILURES = Counter(
    "emporium_payment_failures_total", "Failed payment attempts by provider", ["provider"], registry=REGISTRY
)
# Filled by entrypoints/http/abuse.py; a call refused with both buckets empty counts under both.
STORE_WRITES_REFUSED = Counter(
    "emporium_store_writes_refused_total", "Unsafe /store calls refused (429) by the bucket found empty",
    ["bucket"], registry=REGISTRY,
)
STORE_WRITES_REFUSED.labels("address")  # both series exist from the start, at 0
STORE_WRITES_REFUSED.labels("session")
# How late the API's event loop runs a timer: CPU work on the loop (or a starved process) shows up here
# before it shows up as slow requests. Sampled by ``loop_lag_sampler``, which the app's lifespan runs.
LOOP_LAG = Histogram(
    "emporium_event_loop_lag_seconds", "How late the event loop ran a timer due every LOOP_LAG_INTERVAL",
    registry=REGISTRY, buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
LOOP_LAG_LAST = Gauge("emporium_event_loop_lag_last_seconds", "The latest event loop lag sample", registry=REGISTRY)
LOOP_LAG_INTERVAL = 0.05
DROP_QUEUE = Gauge(
    "emporium_drop_queue", "A live drop's waiting room: tickets joined, waiting and admitted", ["drop", "state"],
    registry=REGISTRY,
)


_last_lag = [0.0]  # this process's loop, as last sampled


def last_loop_lag() -> float:
    """Seconds the loop woke up late at its last sample (the waiting room's valve narrows on it)."""
    return _last_lag[0]


async def sample_loop_lag(interval: float = LOOP_LAG_INTERVAL) -> None:
    """Forever: sleep ``interval`` and record how much later than that the loop woke up."""
    loop = asyncio.get_running_loop()
    while True:
        due = loop.time() + interval
        await asyncio.sleep(interval)
        note_loop_lag(max(0.0, loop.time() - due))


def note_loop_lag(lag: float) -> None:
    """Record one sample of the loop's lag (seconds)."""
    LOOP_LAG.observe(lag)
    LOOP_LAG_LAST.set(lag)
    _last_lag[0] = lag


@asynccontextmanager
async def loop_lag_sampler(_app: object) -> AsyncIterator[None]:
    """A Litestar lifespan: the loop-lag sampler runs while the app does."""
    task = asyncio.create_task(sample_loop_lag(), name="loop-lag-sampler")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def refresh_operational_gauges(container: Any) -> None:
    async def outbox() -> None:
        store = container.outbox_store()
        backlog, lag = await asyncio.gather(store.backlog(), store.lag_seconds())
        OUTBOX_BACKLOG.set(backlog)
        OUTBOX_LAG.set(lag)

    async def queues() -> None:
        broker = container.broker()
        for queue in sorted(broker.get_declared_queues()) or ["events"]:
            depth = await asyncio.to_thread(broker.client.hlen, f"{broker.namespace}:{queue}.msgs")
            QUEUE_DEPTH.labels(queue).set(depth)

    async def inventory() -> None:
        in_flight, drifting = await inventory_gauges(uow=container.uow_factory())
        RESERVATIONS_IN_FLIGHT.set(in_flight)
        RECONCILIATION_DRIFT.set(drifting)

    async def drops() -> None:
        for drop_id, figures in await room_figures(uow=container.uow_factory(), rooms=container.waiting_rooms(),
                                                   now=container.clock().now()):
            for state in ("joined", "waiting", "admitted"):
                DROP_QUEUE.labels(drop_id, state).set(getattr(figures, state))

    # A dependency that is down must not break the scrape: its gauges keep their last value.
    await asyncio.gather(outbox(), queues(), inventory(), drops(), return_exceptions=True)


def _scraper(request: Request[Any, Any, Any]) -> bool:
    """The scrape carries the configured token; with none configured, only development mode serves."""
    settings = request.app.state.container.settings()
    if not settings.metrics_token:
        return bool(settings.environment == "development")
    sent = request.headers.get("authorization", "")
    return hmac.compare_digest(sent.encode(), f"Bearer {settings.metrics_token}".encode())


class MetricsController(Controller):
    path = "/metrics"
    tags = ["operations"]
    include_in_schema = False

    @get("/", operation_id="metrics")
    async def metrics(self, request: Request[Any, Any, Any]) -> Response[Any]:
        if not _scraper(request):
            return problem(401, "unauthorized", "Metrics need the scrape token",
                           "send Authorization: Bearer <EMPORIUM_METRICS_TOKEN>",
                           headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
        await refresh_operational_gauges(request.app.state.container)
        return Response(
            generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"}
        )
