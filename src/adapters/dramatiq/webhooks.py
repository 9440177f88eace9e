"""Webhook deliveries travel to the worker as one Dramatiq message per delivery (by actor name:
the relay and API never import worker code)."""

from __future__ import annotations

import asyncio

import dramatiq

SEND_WEBHOOK_ACTOR = "send_webhook"
WEBHOOK_GAVE_UP_ACTOR = "webhook_gave_up"
WEBHOOK_QUEUE = "webhooks"


class DramatiqWebhookQueue:
    def __init__(self, broker: dramatiq.Broker) -> None:
        self._broker = broker
        broker.declare_queue(WEBHOOK_QUEUE)

    async def enqueue(self, delivery_id: str) -> None:
        message = dramatiq.Message(
            queue_name=WEBHOOK_QUEUE, actor_name=SEND_WEBHOOK_ACTOR, args=(delivery_id,), kwargs={}, options={},
        )
        await asyncio.to_thread(self._broker.enqueue, message)
