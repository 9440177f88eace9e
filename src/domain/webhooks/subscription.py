"""Outbound webhooks: who wants which events, and the log of handing one event to one subscriber."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from urllib.parse import urlsplit

from domain.shared.errors import InvalidInput, NotFound
from domain.shared.events import DomainEvent

ANY_TOPIC = "*"
# Topics a subscriber may ask for ("*" means all of them). Internal topics never leave the building.
PUBLIC_TOPICS = frozenset({
    "orders.order_placed.v1",
    "orders.order_paid.v1",
    "orders.order_status_changed.v1",
    "orders.order_refunded.v1",
})


class SubscriptionNotFound(NotFound):
    pass


class DeliveryNotFound(NotFound):
    pass


class InvalidSubscription(InvalidInput):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class Subscription:
    id: str
    url: str
    topics: tuple[str, ...]
    secret: str
    created_at: datetime
    active: bool = True

    @classmethod
    def create(cls, *, id: str, url: str, topics: list[str], secret: str, now: datetime) -> Subscription:
        """A subscription to ``topics`` (or "*"), POSTed to an http(s) ``url`` and signed with ``secret``."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidSubscription("the URL must be absolute http or https")
        if not topics:
            raise InvalidSubscription("name at least one event type, or '*'")
        unknown = sorted(set(topics) - PUBLIC_TOPICS - {ANY_TOPIC})
        if unknown:
            raise InvalidSubscription(f"unknown event types: {', '.join(unknown)}")
        if len(secret) < 16:
            raise InvalidSubscription("the secret must be at least 16 characters")
        return cls(id=id, url=url, topics=tuple(sorted(set(topics))), secret=secret, created_at=now)

    def wants(self, topic: str) -> bool:
        return self.active and topic in PUBLIC_TOPICS and (ANY_TOPIC in self.topics or topic in self.topics)


class DeliveryStatus(Enum):
    PENDING = "pending"  # scheduled or being retried
    DELIVERED = "delivered"
    FAILED = "failed"  # retries exhausted; a replay schedules it again


@dataclass(kw_only=True)
class Delivery:
    """One event for one subscription. The event id is the ``Emporium-Webhook-Id`` of every attempt."""

    id: str
    subscription_id: str
    event_id: str
    topic: str
    payload: dict[str, object]
    occurred_at: datetime
    created_at: datetime
    status: DeliveryStatus = DeliveryStatus.PENDING
    attempts: int = 0
    replays: int = 0
    last_status_code: int | None = None
    last_error: str = ""
    last_attempt_at: datetime | None = None
    delivered_at: datetime | None = None

    def record_attempt(self, *, status_code: int | None, error: str, now: datetime) -> bool:
        """Log one attempt; True when it succeeded (2xx)."""
        self.attempts += 1
        self.last_status_code = status_code
        self.last_attempt_at = now
        ok = status_code is not None and 200 <= status_code < 300
        self.last_error = "" if ok else (error or f"HTTP {status_code}")[:500]
        if ok:
            self.status = DeliveryStatus.DELIVERED
            self.delivered_at = now
        return ok

    def give_up(self) -> bool:
        """Retries are exhausted: failed, unless an attempt succeeded meanwhile. True when it changed."""
        if self.status is not DeliveryStatus.PENDING:
            return False
        self.status = DeliveryStatus.FAILED
        return True

    def replay(self) -> None:
        """Send again (same event id), whatever happened before."""
        self.status = DeliveryStatus.PENDING
        self.replays += 1


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookDeliveryScheduled(DomainEvent):
    """A delivery row is committed and waits for the sender (first time or on replay)."""

    topic = "webhooks.delivery_scheduled.v1"
    delivery_id: str
