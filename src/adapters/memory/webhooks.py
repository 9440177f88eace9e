"""Fakes for outbound webhooks: the subscription store, a recording sender and an inline queue."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from application.ports.webhooks import WebhookRequest, WebhookUnreachable
from domain.webhooks.subscription import Delivery, DeliveryNotFound, Subscription, SubscriptionNotFound


class MemoryWebhooks:
    def __init__(self, data: dict[str, Any]) -> None:
        self._subscriptions: dict[str, Subscription] = data.setdefault("webhook_subscriptions", {})
        self._deliveries: dict[str, Delivery] = data.setdefault("webhook_deliveries", {})

    async def add_subscription(self, subscription: Subscription) -> None:
        self._subscriptions[subscription.id] = subscription

    async def subscriptions(self) -> list[Subscription]:
        return sorted((s for s in self._subscriptions.values() if s.active), key=lambda s: (s.created_at, s.id))

    async def get_subscription(self, subscription_id: str) -> Subscription:
        try:
            return self._subscriptions[subscription_id]
        except KeyError:
            raise SubscriptionNotFound(f"no webhook subscription {subscription_id}") from None

    async def deactivate(self, subscription_id: str) -> None:
        current = await self.get_subscription(subscription_id)
        self._subscriptions[subscription_id] = Subscription(
            id=current.id, url=current.url, topics=current.topics, secret=current.secret,
            created_at=current.created_at, active=False,
        )

    async def add_delivery(self, delivery: Delivery) -> bool:
        if any(d.subscription_id == delivery.subscription_id and d.event_id == delivery.event_id
               for d in self._deliveries.values()):
            return False
        self._deliveries[delivery.id] = copy.deepcopy(delivery)
        return True

    async def get_delivery(self, delivery_id: str, *, lock: bool = False) -> Delivery:
        try:
            return copy.deepcopy(self._deliveries[delivery_id])
        except KeyError:
            raise DeliveryNotFound(f"no webhook delivery {delivery_id}") from None

    async def save_delivery(self, delivery: Delivery) -> None:
        self._deliveries[delivery.id] = copy.deepcopy(delivery)

    async def deliveries(self, subscription_id: str, *, limit: int = 100) -> list[Delivery]:
        mine = [d for d in self._deliveries.values() if d.subscription_id == subscription_id]
        return sorted(mine, key=lambda d: d.created_at, reverse=True)[:limit]


class RecordingWebhookSender:
    """Answers with the statuses it is given in turn (then 200), and keeps every request.
    A status of 0 stands for a network error."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.statuses = list(statuses or [])
        self.requests: list[WebhookRequest] = []

    async def send(self, request: WebhookRequest) -> int:
        self.requests.append(request)
        status = self.statuses.pop(0) if self.statuses else 200
        if status == 0:
            raise WebhookUnreachable("connection refused")
        return status


class RecordingWebhookQueue:
    def __init__(self, on_enqueue: Callable[[str], object] | None = None) -> None:
        self.enqueued: list[str] = []
        self._on_enqueue = on_enqueue

    async def enqueue(self, delivery_id: str) -> None:
        self.enqueued.append(delivery_id)
        if self._on_enqueue is not None:
            self._on_enqueue(delivery_id)
