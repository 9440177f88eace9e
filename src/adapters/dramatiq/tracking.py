"""Tracked storefront events travel to the worker as one Dramatiq message per batch."""

from __future__ import annotations

import asyncio
from typing import Any

import dramatiq
import msgspec

from domain.analytics.tracking import TrackedEvent

TRACKING_ACTOR = "store_tracked_events"
TRACKING_QUEUE = "tracking"


def encode_batch(events: list[TrackedEvent]) -> list[dict[str, Any]]:
    encoded: list[dict[str, Any]] = msgspec.to_builtins(events)
    return encoded


def decode_batch(data: list[dict[str, Any]]) -> list[TrackedEvent]:
    return msgspec.convert(data, list[TrackedEvent], strict=False)


class DramatiqTrackingQueue:
    def __init__(self, broker: dramatiq.Broker) -> None:
        self._broker = broker
        broker.declare_queue(TRACKING_QUEUE)

    async def submit(self, events: list[TrackedEvent]) -> None:
        message = dramatiq.Message(
            queue_name=TRACKING_QUEUE, actor_name=TRACKING_ACTOR, args=(encode_batch(events),), kwargs={},
            options={},
        )
        await asyncio.to_thread(self._broker.enqueue, message)
