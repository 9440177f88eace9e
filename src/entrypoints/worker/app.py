"""The module Dramatiq's CLI loads: the broker and the actors.

Importing it builds the broker object (no connection is opened until the worker starts).
Actors are thin: they rebuild the envelope and hand it to the application's idempotent
``deliver``; retries with exponential backoff come from Dramatiq's Retries middleware.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import dramatiq

from adapters.dramatiq.broker import DELIVER_ACTOR, DELIVER_ONE_ACTOR, QUEUE
from adapters.dramatiq.heartbeat import Heartbeat
from adapters.dramatiq.tracking import TRACKING_ACTOR, TRACKING_QUEUE, decode_batch
from adapters.dramatiq.webhooks import SEND_WEBHOOK_ACTOR, WEBHOOK_GAVE_UP_ACTOR, WEBHOOK_QUEUE
from application.analytics import handlers as analytics
from application.inventory.commands import Reconcile
from application.messaging.consumers import deliver, deliver_many
from application.payments.commands import ReconcilePayments
from application.ports.outbox import OutboxMessage
from application.webhooks import handlers as webhooks
from entrypoints.container import Container
from entrypoints.logging import configure_logging
from entrypoints.settings import refuse_insecure
from entrypoints.worker.scheduler import (
    MAINTENANCE_QUEUE,
    PRUNE_ACTOR,
    PURGE_CARTS_ACTOR,
    RECONCILE_ACTOR,
    RECONCILE_PAYMENTS_ACTOR,
)

logger = logging.getLogger(__name__)
container = Container()
refuse_insecure(container.settings())  # the worker sends webhooks: never with the test exemptions in production
_settings = container.settings()
configure_logging(_settings.log_level, json_lines=_settings.log_json)
broker = container.broker()
broker.add_middleware(Heartbeat(_settings.redis_key_prefix, every=_settings.worker_beat_seconds))
dramatiq.set_broker(broker)


def _envelope(
    *, id: str, topic: str, aggregate_id: str, aggregate_version: int, occurred_at: str, payload: dict[str, Any],
) -> OutboxMessage:
    return OutboxMessage(
        id=id, topic=topic, aggregate_id=aggregate_id, aggregate_version=aggregate_version,
        occurred_at=datetime.fromisoformat(occurred_at), payload=payload,
    )


@dramatiq.actor(
    actor_name=DELIVER_ACTOR, queue_name=QUEUE, max_retries=25, min_backoff=250, max_backoff=300_000
)
async def deliver_events(*, consumer: str, messages: list[dict[str, Any]]) -> None:
    """A burst of one consumer's events: one transaction, or one per event if that fails (then the
    retry runs only the events not done)."""
    await deliver_many(container.consumers(), consumer, [_envelope(**m) for m in messages], container.uow_factory())


@dramatiq.actor(
    actor_name=DELIVER_ONE_ACTOR, queue_name=QUEUE, max_retries=25, min_backoff=250, max_backoff=300_000
)
async def deliver_event(*, consumer: str, **message: Any) -> None:
    """One event, as relays published before bursts (messages still queued from before an upgrade)."""
    await deliver(container.consumers(), consumer, _envelope(**message), container.uow_factory())


@dramatiq.actor(
    actor_name=SEND_WEBHOOK_ACTOR, queue_name=WEBHOOK_QUEUE, max_retries=_settings.webhook_max_retries,
    min_backoff=_settings.webhook_min_backoff_ms, max_backoff=_settings.webhook_max_backoff_ms,
    on_retry_exhausted=WEBHOOK_GAVE_UP_ACTOR,
)
async def send_webhook(delivery_id: str) -> None:
    """One attempt; a non-2xx answer or no answer raises, and Retries backs off exponentially."""
    await webhooks.send_delivery(
        delivery_id, uow=container.uow_factory(), sender=container.webhook_sender(), clock=container.clock(),
    )


@dramatiq.actor(actor_name=WEBHOOK_GAVE_UP_ACTOR, queue_name=WEBHOOK_QUEUE, max_retries=5)
async def webhook_gave_up(message_data: dict[str, Any], retry_info: dict[str, Any]) -> None:
    """Retries of a delivery are exhausted: the delivery log says failed (a replay starts over)."""
    [delivery_id] = message_data["args"]
    await webhooks.give_up_delivery(delivery_id, uow=container.uow_factory())


@dramatiq.actor(actor_name=TRACKING_ACTOR, queue_name=TRACKING_QUEUE, max_retries=10, min_backoff=500)
async def store_tracked_events(batch: list[dict[str, Any]]) -> None:
    # Idempotent by event id: a redelivered batch inserts nothing new.
    await analytics.store_tracked_events(decode_batch(batch), uow=container.uow_factory())


@dramatiq.actor(actor_name=RECONCILE_ACTOR, queue_name=MAINTENANCE_QUEUE, max_retries=0, time_limit=300_000)
async def reconcile_inventory() -> None:
    """Every minute: expire lapsed holds, check ledger = balance (alerting on drift), refill the gate."""
    run = await container.bus().handle(Reconcile())
    logger.info("reconciliation: %d expired, %d drifting", run.expired, len(run.drift))


@dramatiq.actor(actor_name=PRUNE_ACTOR, queue_name=MAINTENANCE_QUEUE, max_retries=3)
async def prune_outbox() -> None:
    """Daily: drop published outbox rows and consumer marks past the retention window."""
    settings = container.settings()
    before = container.clock().now() - timedelta(days=settings.outbox_retention_days)
    removed = await container.outbox_store().prune(before)
    logger.info("pruned %d published outbox messages", removed)
    # Idempotency keys are kept at least 24 hours; a day more covers clients retrying late.
    keys = await container.idempotency_store().prune(before=container.clock().now() - timedelta(hours=48))
    logger.info("pruned %d idempotency keys", keys)


@dramatiq.actor(actor_name=PURGE_CARTS_ACTOR, queue_name=MAINTENANCE_QUEUE, max_retries=3)
async def purge_expired_carts() -> None:
    """Daily: delete durable cart copies nobody touched within their TTL."""
    removed = await container.cart_store().purge_expired()
    logger.info("purged %d expired carts", removed)


@dramatiq.actor(actor_name=RECONCILE_PAYMENTS_ACTOR, queue_name=MAINTENANCE_QUEUE, max_retries=3)
async def reconcile_payments() -> None:
    """Every 5 minutes: settle online orders whose webhook never came."""
    counts = await container.bus().handle(ReconcilePayments())
    logger.info("payment reconciliation: %s", counts)
