"""The outbox relay: moves committed events to the broker, one message per consumer per claimed burst."""

from __future__ import annotations

import asyncio
import logging

from application.messaging.consumers import ConsumerRegistry
from application.ports.outbox import MessagePublisher, OutboxMessage, OutboxStore

logger = logging.getLogger(__name__)


class OutboxRelay:
    def __init__(
        self,
        store: OutboxStore,
        publisher: MessagePublisher,
        registry: ConsumerRegistry,
        *,
        batch_size: int = 200,
        burst_size: int = 200,
        poll_interval: float = 1.0,
    ) -> None:
        self._store = store
        self._publisher = publisher
        self._registry = registry
        self._batch_size = batch_size
        self._burst_size = burst_size
        self._poll_interval = poll_interval

    async def relay_once(self) -> int:
        """Publish one claimed batch; returns how many outbox messages it moved.

        Each consumer gets the batch's events it wants as one broker message (``burst_size`` at most),
        in outbox order: a bulk import's thousands of events are a few messages per consumer, each
        handled in one transaction by the worker, and a consumer that fails is retried alone."""
        async with self._store.claim(self._batch_size) as messages:
            wanted: dict[str, list[OutboxMessage]] = {}
            for message in messages:
                for consumer in self._registry.consumers_of(message.topic):
                    wanted.setdefault(consumer, []).append(message)
            for consumer, burst in wanted.items():
                for start in range(0, len(burst), self._burst_size):
                    await self._publisher.publish(consumer, burst[start : start + self._burst_size])
        return len(messages)

    async def run(self, stop: asyncio.Event) -> None:
        """Relay until ``stop`` is set: drain, then sleep until NOTIFY or the poll interval."""
        while not stop.is_set():
            try:
                moved = await self.relay_once()
            except Exception:
                logger.exception("outbox relay batch failed; retrying")
                moved = 0
                await asyncio.sleep(self._poll_interval)
            if moved < self._batch_size and not stop.is_set():
                await self._store.wait_for_new(self._poll_interval)
