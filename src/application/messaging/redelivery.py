"""Publishing again what a broker lost.

The relay marks a message published once the broker took it; a broker that restarts without
persistence loses what it had queued, and no consumer would ever see those events. So the relay also
sweeps, every ``every`` seconds: the messages published between ``window`` and ``grace`` ago that a
consumer of their topic has not processed yet are published again to that consumer. A message merely
slow (a consumer failing and retrying with backoff) gets one more copy at most every ``again``: harmless,
since every consumer is idempotent (``processed_events``), and bounded.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from application.messaging.consumers import ConsumerRegistry
from application.ports.clock import Clock
from application.ports.outbox import MessagePublisher, OutboxMessage
from application.ports.redelivery import UnconsumedEvents

logger = logging.getLogger(__name__)


class Redelivery:
    def __init__(
        self, events: UnconsumedEvents, publisher: MessagePublisher, registry: ConsumerRegistry, clock: Clock, *,
        grace: timedelta = timedelta(minutes=2), window: timedelta = timedelta(hours=1),
        again: timedelta = timedelta(minutes=10), batch: int = 500,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._events, self._publisher, self._registry, self._clock = events, publisher, registry, clock
        self._grace, self._window, self._again, self._batch = grace, window, again, batch
        self._monotonic = monotonic
        self._sent: dict[tuple[str, str], float] = {}  # (consumer, event id) -> when it was published again
        # Every message published before this was found processed by all its consumers (marks are only
        # ever added): a sweep looks from here on, so a quiet shop's sweep reads half a minute of the
        # outbox, not an hour of it. It moves only when a sweep found nothing left to publish again.
        self._consumed_before: datetime | None = None

    async def sweep(self) -> int:
        """Publish again what no consumer processed within the grace; returns how many messages."""
        now, moment = self._clock.now(), self._monotonic()
        self._sent = {pair: at for pair, at in self._sent.items() if moment - at < self._again.total_seconds()}
        after, before = now - self._window, now - self._grace
        if self._consumed_before is not None:
            after = max(after, self._consumed_before)
        topics = await self._events.published_topics(published_after=after, published_before=before)
        takes = [(topic, consumer) for topic in sorted(topics) for consumer in self._registry.consumers_of(topic)]
        lost = await self._events.unconsumed(takes, published_after=after, published_before=before,
                                             limit=self._batch) if takes else []
        if not lost:
            self._consumed_before = before
        again = [(consumer, message) for consumer, message in lost if (consumer, message.id) not in self._sent]
        bursts: dict[str, list[OutboxMessage]] = {}
        for consumer, message in again:  # one burst per consumer, in outbox order
            bursts.setdefault(consumer, []).append(message)
        for consumer, messages in bursts.items():
            await self._publisher.publish(consumer, messages)
            self._sent.update(((consumer, message.id), moment) for message in messages)
        if again:
            logger.warning("published %d messages again that no consumer had processed %s after publishing "
                           "(a broker lost them, or their consumer keeps failing)", len(again), self._grace)
        return len(again)

    async def run(self, stop: asyncio.Event, every: float) -> None:
        """Sweep every ``every`` seconds until ``stop`` is set; a failed sweep is tried again next time."""
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), timeout=every)
            except TimeoutError:
                try:
                    await self.sweep()
                except Exception:
                    logger.exception("the redelivery sweep failed; trying again in %s s", every)
