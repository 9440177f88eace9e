"""The ``Notifier`` port: messages to people (e-mail), rendered from a named template."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True, slots=True, kw_only=True)
class Notification:
    to: str
    template: str  # "password_reset", "order_confirmation", …
    context: dict[str, Any] = field(default_factory=dict)
    key: str = ""  # a deduplication key: the same key is sent at most once where the adapter can tell


class Notifier(Protocol):
    async def send(self, notification: Notification) -> None: ...


class SentNotifications(Protocol):
    """The durable log of notifications handed to the mail server, by ``Notification.key``."""

    async def was_sent(self, key: str) -> bool: ...

    async def record(self, key: str, *, to: str, template: str, at: datetime) -> None:
        """Remember ``key`` as sent (recording it twice is harmless)."""
        ...
