"""Periodic jobs: APScheduler enqueues Dramatiq messages; the worker runs them like any other.

Started beside the worker through Dramatiq's ``--fork-function``, so ``emporium worker`` runs
the schedule too. Running it twice is harmless: every job is safe to run concurrently.
"""

from __future__ import annotations

import logging
import signal

import dramatiq
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from adapters.dramatiq.broker import make_broker
from entrypoints.logging import configure_logging
from entrypoints.settings import get_settings

logger = logging.getLogger(__name__)

MAINTENANCE_QUEUE = "maintenance"
RECONCILE_ACTOR = "reconcile_inventory"
PRUNE_ACTOR = "prune_outbox"
PURGE_CARTS_ACTOR = "purge_expired_carts"
RECONCILE_PAYMENTS_ACTOR = "reconcile_payments"


def enqueue(broker: dramatiq.Broker, actor_name: str) -> None:
    broker.enqueue(
        dramatiq.Message(queue_name=MAINTENANCE_QUEUE, actor_name=actor_name, args=(), kwargs={}, options={})
    )


def build_scheduler(broker: dramatiq.Broker, *, every_seconds: int) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.add_job(
        enqueue, IntervalTrigger(seconds=every_seconds), args=[broker, RECONCILE_ACTOR], id=RECONCILE_ACTOR,
        max_instances=1, coalesce=True, misfire_grace_time=30,
    )
    scheduler.add_job(
        enqueue, CronTrigger(hour=3, minute=17), args=[broker, PRUNE_ACTOR], id=PRUNE_ACTOR,
        max_instances=1, coalesce=True,
    )
    scheduler.add_job(
        enqueue, IntervalTrigger(minutes=5), args=[broker, RECONCILE_PAYMENTS_ACTOR], id=RECONCILE_PAYMENTS_ACTOR,
        max_instances=1, coalesce=True, misfire_grace_time=60,
    )
    scheduler.add_job(
        enqueue, CronTrigger(hour=3, minute=47), args=[broker, PURGE_CARTS_ACTOR], id=PURGE_CARTS_ACTOR,
        max_instances=1, coalesce=True,
    )
    return scheduler


def run_scheduler() -> int:
    """Run until SIGTERM or SIGINT (Dramatiq's main process and a terminal may both send one)."""
    stop_signals = {signal.SIGTERM, signal.SIGINT}
    # Blocked before any thread starts (threads inherit the mask), then taken synchronously here:
    # no handler runs in the middle of the scheduler's own locking, and a second signal is harmless.
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    settings = get_settings()
    configure_logging(settings.log_level, json_lines=settings.log_json)
    broker = make_broker(settings.redis_url, namespace=settings.broker_namespace)
    broker.declare_queue(MAINTENANCE_QUEUE)
    scheduler = build_scheduler(broker, every_seconds=settings.reconcile_every_seconds)
    scheduler.start()
    logger.info("scheduler started: reconcile every %ss", settings.reconcile_every_seconds)
    received = signal.sigwait(stop_signals)
    scheduler.shutdown(wait=False)
    logger.info("scheduler stopped (%s)", signal.Signals(received).name)
    return 0
