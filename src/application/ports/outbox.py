"""Ports of the outbox relay: the store that holds committed events and the broker that carries them."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboxMessage:
    """A committed domain event as stored in the outbox: envelope plus encoded payload."""

    id: str
    topic: str
    aggregate_id: str
    aggregate_version: int
    occurred_at: datetime
    payload: dict[str, Any]


class OutboxStore(Protocol):
    def claim(self, limit: int) -> AbstractAsyncContextManager[list[OutboxMessage]]:
        """Lock up to ``limit`` unpublished messages (skipping rows another relay holds).

        Leaving the block without an error marks them published, in one transaction.
        """
        ...

    async def wait_for_new(self, timeout: float) -> None:
        """Return when new messages were committed, or after ``timeout`` seconds."""
        ...

    async def backlog(self) -> int:
        """Number of messages not yet published."""
        ...

    async def prune(self, before: datetime) -> int:
        """Delete messages published before ``before`` (and consumer marks as old); returns how many."""
        ...

    async def lag_seconds(self) -> float:
        """Age in seconds of the oldest message not yet published (0 when none)."""
        ...


class MessagePublisher(Protocol):
    async def publish(self, consumer: str, messages: list[OutboxMessage]) -> None:
        """Hand ``messages`` (a burst, in outbox order) to the broker for ``consumer`` as one message;
        at-least-once."""
        ...
