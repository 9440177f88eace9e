"""The ``WebhookSender`` port: one HTTP POST to a subscriber, and nothing else (no retries, no log)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookRequest:
    url: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


class WebhookUnreachable(Exception):
    """No HTTP response at all: refused, timed out, DNS, TLS …"""


class WebhookSender(Protocol):
    async def send(self, request: WebhookRequest) -> int:
        """POST ``request`` and return the response status; ``WebhookUnreachable`` without a response."""
        ...
