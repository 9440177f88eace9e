"""The outbox relay: moves committed events to the broker, one message per consumer."""

from __future__ import annotations

import asyncio
import logging

from application.messaging.consumers import ConsumerRegistry
from application.ports.outbox import MessagePublisher, OutboxStore

logger = logging.getLogger(__name__)


class OutboxRelay:
    def __init__(
        self,
        store: OutboxStore,
        publisher: MessagePublisher,
        registry: ConsumerRegistry,
        *,
        batch_size: int = 200,
        poll_interval: float = 1.0,
    ) -> None:
        self._store = store
        self._publisher = publisher
        self._registry = registry
        self._batch_size = batch_size
        self._poll_interval = poll_interval

    async def relay_once(self) -> int:
        """Publish one batch; returns how many outbox messages it moved."""
        async with self._store.claim(self._batch_size) as messages:
            for message in messages:
                for consumer in self._registry.consumers_of(message.topic):
                    await self._publisher.publish(consumer, message)
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
