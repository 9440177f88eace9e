"""Event consumers: who reacts to which committed event, and the idempotent way to run them.

Each consumer receives its own broker message per event, so one failing consumer is retried
without replaying the others. A consumer records the event id in the same transaction as its
writes (``ProcessedEvents.mark``), so at-least-once delivery gives exactly-once effects.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from application.messaging.codec import event_from_builtins
from application.ports.outbox import OutboxMessage
from application.ports.unit_of_work import UnitOfWork

logger = logging.getLogger(__name__)

# Handlers declare the context slice of the unit of work they need; any concrete one fits.
EventHandler = Callable[[Any, Any], Awaitable[None]]
# Consumers of every topic (analytics, webhooks) take the envelope as stored, undecoded.
EnvelopeHandler = Callable[[OutboxMessage, Any], Awaitable[None]]


@dataclass(slots=True)
class Consumer:
    name: str
    handlers: dict[str, EventHandler] = field(default_factory=dict)
    envelopes: dict[str, EnvelopeHandler] = field(default_factory=dict)
    every: EnvelopeHandler | None = None

    def on(self, topic: str, handler: EventHandler) -> Consumer:
        self.handlers[topic] = handler
        return self

    def on_message(self, topic: str, handler: EnvelopeHandler) -> Consumer:
        """Like ``on``, but the handler takes the envelope (it needs the event id: webhooks, e-mails)."""
        self.envelopes[topic] = handler
        return self

    def on_every(self, handler: EnvelopeHandler) -> Consumer:
        self.every = handler
        return self

    def wants(self, topic: str) -> bool:
        return topic in self.handlers or topic in self.envelopes or self.every is not None


class ConsumerRegistry:
    def __init__(self, consumers: Iterable[Consumer]) -> None:
        self._consumers = {c.name: c for c in consumers}

    def consumers_of(self, topic: str) -> list[str]:
        return [c.name for c in self._consumers.values() if c.wants(topic)]

    def get(self, name: str) -> Consumer:
        return self._consumers[name]

    @property
    def names(self) -> list[str]:
        return list(self._consumers)


async def deliver(
    registry: ConsumerRegistry,
    consumer_name: str,
    message: OutboxMessage,
    uow: Callable[[], UnitOfWork],
) -> bool:
    """Run one consumer on one message, at most once in effect. False if it was a replay."""
    consumer = registry.get(consumer_name)
    async with uow() as tx:
        if not await tx.processed.mark(consumer_name, message.id):
            logger.info("skip replay of %s for %s", message.id, consumer_name)
            return False
        handler = consumer.handlers.get(message.topic)
        envelope = consumer.envelopes.get(message.topic)
        if handler is not None:
            await handler(event_from_builtins(message.topic, message.payload), tx)
        elif envelope is not None:
            await envelope(message, tx)
        elif consumer.every is not None:
            await consumer.every(message, tx)
        await tx.commit()
    return True
