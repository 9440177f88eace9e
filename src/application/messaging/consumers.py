"""Event consumers: who reacts to which committed event, and the idempotent way to run them.

The relay sends each consumer its own broker messages, each carrying a burst of events (up to a
claim's worth, in outbox order), so one failing consumer is retried without replaying the others.
A consumer records the event ids in the same transaction as its writes (``ProcessedEvents.mark_many``),
so at-least-once delivery gives exactly-once effects: a redelivered burst runs only the events not
yet marked. A burst runs in one transaction, its events of one kind handed together to a batch handler
(``on_many``) where the consumer has one; should that transaction fail, the burst is delivered again one
event per transaction, so a poison event is retried (and in the end dead-lettered) alone.
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
# A burst of events (in outbox order) in one transaction: decoded events, or envelopes for ``on_every_many``.
BatchHandler = Callable[[list[Any], Any], Awaitable[None]]
EnvelopeBatchHandler = Callable[[list[OutboxMessage], Any], Awaitable[None]]


@dataclass(slots=True)
class Consumer:
    """``batched``: a burst of events runs in one transaction. A consumer whose effects leave the
    transaction (commands run through the bus, e-mails, sends enqueued) says False: each event then gets a
    transaction of its own, so a later event's failure never has an earlier one's effect repeated."""

    name: str
    handlers: dict[str, EventHandler] = field(default_factory=dict)
    envelopes: dict[str, EnvelopeHandler] = field(default_factory=dict)
    batches: dict[str, EnvelopeBatchHandler] = field(default_factory=dict)
    every: EnvelopeHandler | None = None
    every_many: EnvelopeBatchHandler | None = None
    batched: bool = True

    def on(self, topic: str, handler: EventHandler) -> Consumer:
        self.handlers[topic] = handler
        return self

    def on_many(self, topics: Iterable[str], handler: BatchHandler) -> Consumer:
        """One handler for a burst of events of these topics, given together in outbox order (a single
        event comes as a list of one). For projections that rebuild N things with a constant number of
        statements: a bulk import's thousands of events cost a few statements per burst."""

        async def decoded(messages: list[OutboxMessage], tx: Any) -> None:
            await handler([event_from_builtins(m.topic, m.payload) for m in messages], tx)

        for topic in topics:
            self.batches[topic] = decoded  # one object for all its topics: their events go together
        return self

    def on_message(self, topic: str, handler: EnvelopeHandler) -> Consumer:
        """Like ``on``, but the handler takes the envelope (it needs the event id: webhooks, e-mails)."""
        self.envelopes[topic] = handler
        return self

    def on_every(self, handler: EnvelopeHandler) -> Consumer:
        self.every = handler
        return self

    def on_every_many(self, handler: EnvelopeBatchHandler) -> Consumer:
        """Like ``on_every``, given a burst of envelopes at once (as ``on_many``)."""
        self.every_many = handler
        return self

    def wants(self, topic: str) -> bool:
        return (topic in self.handlers or topic in self.envelopes or topic in self.batches
                or self.every is not None or self.every_many is not None)

    def _batch_handler(self, topic: str) -> EnvelopeBatchHandler | None:
        if topic in self.handlers or topic in self.envelopes:
            return None
        if topic in self.batches:
            return self.batches[topic]
        return None if self.every is not None else self.every_many

    async def run_one(self, message: OutboxMessage, tx: Any) -> None:
        """This consumer's handler of the message's topic, in ``tx``."""
        handler = self.handlers.get(message.topic)
        envelope = self.envelopes.get(message.topic)
        if handler is not None:
            await handler(event_from_builtins(message.topic, message.payload), tx)
        elif envelope is not None:
            await envelope(message, tx)
        elif (many := self._batch_handler(message.topic)) is not None:
            await many([message], tx)
        elif self.every is not None:
            await self.every(message, tx)

    async def run(self, messages: list[OutboxMessage], tx: Any) -> None:
        """Runs of consecutive events sharing a batch handler go to it together; the rest one by one."""
        start = 0
        while start < len(messages):
            handler = self._batch_handler(messages[start].topic)
            if handler is None:
                await self.run_one(messages[start], tx)
                start += 1
                continue
            end = start + 1
            while end < len(messages) and self._batch_handler(messages[end].topic) is handler:
                end += 1
            await handler(messages[start:end], tx)
            start = end


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
        await consumer.run_one(message, tx)
        await tx.commit()
    return True


class BurstFailed(Exception):
    """Some events of a burst failed, each in a transaction of its own; the others are done (and marked),
    so the broker's retry of the burst runs only the failed ones again."""


async def deliver_many(
    registry: ConsumerRegistry,
    consumer_name: str,
    messages: list[OutboxMessage],
    uow: Callable[[], UnitOfWork],
) -> int:
    """Run one consumer on a burst of messages (in outbox order), at most once in effect each; returns
    how many were not replays. One transaction for the burst when the consumer is ``batched``; when that
    fails, or for a consumer that is not, one transaction per event: a failing event does not keep the
    others from being done, and ``BurstFailed`` (after all were tried) has the broker retry the burst."""
    consumer = registry.get(consumer_name)
    if consumer.batched and len(messages) > 1:
        try:
            return await _deliver_together(consumer, messages, uow)
        except Exception:  # the burst is delivered again, one event per transaction
            logger.warning("a burst of %d events failed for %s; delivering them one by one", len(messages),
                           consumer_name, exc_info=True)
    delivered, failed = 0, 0
    first: Exception | None = None
    for message in messages:
        try:
            delivered += await deliver(registry, consumer_name, message, uow)
        except Exception as error:  # raised below, once the burst's others were tried
            logger.warning("event %s (%s) failed for %s", message.id, message.topic, consumer_name, exc_info=True)
            failed += 1
            first = first or error
    if first is not None:
        raise BurstFailed(f"{failed} of {len(messages)} events failed for {consumer_name}") from first
    return delivered


async def _deliver_together(consumer: Consumer, messages: list[OutboxMessage], uow: Callable[[], UnitOfWork]) -> int:
    async with uow() as tx:
        fresh_ids = await tx.processed.mark_many(consumer.name, [m.id for m in messages])
        fresh: list[OutboxMessage] = []
        for message in messages:
            if message.id in fresh_ids:
                fresh.append(message)
                fresh_ids.discard(message.id)  # a message twice in one burst runs once
        if len(fresh) < len(messages):
            logger.info("skip replay of %d of %d events for %s", len(messages) - len(fresh), len(messages),
                        consumer.name)
        if not fresh:
            return 0
        await consumer.run(fresh, tx)
        await tx.commit()
    return len(fresh)
