"""Broker construction and the outbox publisher.

The relay does not import actors: it enqueues by actor name onto the consumer's queue, so
the API and relay processes never load worker code.
"""

from __future__ import annotations

import asyncio
from typing import Any

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import AsyncIO

from application.ports.outbox import OutboxMessage

DELIVER_ACTOR = "deliver_events"  # a burst of events for one consumer
DELIVER_ONE_ACTOR = "deliver_event"  # one event: what relays before bursts enqueued (still consumed)
QUEUE = "events"


def make_broker(
    redis_url: str,
    *,
    namespace: str = "emporium",
    heartbeat_timeout_ms: int = 60_000,
    maintenance_chance: int = 1000,
) -> RedisBroker:
    """A Redis broker; messages a dead worker held are re-queued after ``heartbeat_timeout_ms``
    (checked on ``maintenance_chance`` out of a million broker commands)."""
    broker = RedisBroker(
        url=redis_url, namespace=namespace, heartbeat_timeout=heartbeat_timeout_ms,
        maintenance_chance=maintenance_chance,
    )
    broker.add_middleware(AsyncIO())
    return broker


def envelope_args(message: OutboxMessage) -> dict[str, Any]:
    return {
        "id": message.id,
        "topic": message.topic,
        "aggregate_id": message.aggregate_id,
        "aggregate_version": message.aggregate_version,
        "occurred_at": message.occurred_at.isoformat(),
        "payload": message.payload,
    }


class DramatiqPublisher:
    def __init__(self, broker: dramatiq.Broker, *, queue_name: str = QUEUE) -> None:
        self._broker = broker
        self._queue = queue_name
        broker.declare_queue(queue_name)

    async def publish(self, consumer: str, messages: list[OutboxMessage]) -> None:
        envelope = dramatiq.Message(
            queue_name=self._queue,
            actor_name=DELIVER_ACTOR,
            args=(),
            kwargs={"consumer": consumer, "messages": [envelope_args(m) for m in messages]},
            options={},
        )
        await asyncio.to_thread(self._broker.enqueue, envelope)
