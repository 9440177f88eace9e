"""The ``Notifier`` port: messages to people (e-mail), rendered from a named template."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True, kw_only=True)
class Notification:
    to: str
    template: str  # "password_reset", "order_confirmation", …
    context: dict[str, Any] = field(default_factory=dict)
    key: str = ""  # a deduplication key: the same key is sent at most once where the adapter can tell


class Notifier(Protocol):
    async def send(self, notification: Notification) -> None: ...
