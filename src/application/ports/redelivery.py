"""What the relay asks to find messages a broker lost: published, yet not processed by a consumer."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from application.ports.outbox import OutboxMessage

EVERY_TOPIC = "*"  # in a (topic, consumer) pair: the consumer takes every topic


class UnconsumedEvents(Protocol):
    async def published_topics(self, *, published_after: datetime, published_before: datetime) -> set[str]:
        """The topics of the messages published in [``published_after``, ``published_before``)."""
        ...

    async def unconsumed(
        self, takes: Sequence[tuple[str, str]], *, published_after: datetime, published_before: datetime,
        limit: int,
    ) -> list[tuple[str, OutboxMessage]]:
        """(consumer, message) for each message published in [``published_after``, ``published_before``)
        whose topic a consumer takes (``takes``: (topic or ``EVERY_TOPIC``, consumer) pairs) and that this
        consumer has not marked processed; oldest first, at most ``limit``."""
        ...
