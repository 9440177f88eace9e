from __future__ import annotations

from typing import Protocol

from application.ports.unit_of_work import UnitOfWork
from domain.webhooks.subscription import Delivery, Subscription


class WebhookStore(Protocol):
    async def add_subscription(self, subscription: Subscription) -> None: ...

    async def subscriptions(self) -> list[Subscription]:
        """Active subscriptions, oldest first."""
        ...

    async def get_subscription(self, subscription_id: str) -> Subscription:
        """The subscription, or ``SubscriptionNotFound``."""
        ...

    async def deactivate(self, subscription_id: str) -> None:
        """Stop sending to it (its delivery log stays); ``SubscriptionNotFound`` when unknown."""
        ...

    async def add_delivery(self, delivery: Delivery) -> bool:
        """Stage a delivery; False (nothing written) when one exists for its subscription and event."""
        ...

    async def get_delivery(self, delivery_id: str, *, lock: bool = False) -> Delivery:
        """The delivery (row-locked until commit with ``lock``), or ``DeliveryNotFound``."""
        ...

    async def save_delivery(self, delivery: Delivery) -> None: ...

    async def deliveries(self, subscription_id: str, *, limit: int = 100) -> list[Delivery]:
        """The subscription's delivery log, newest first."""
        ...


class WebhookUnitOfWork(UnitOfWork, Protocol):
    webhooks: WebhookStore


class Resolver(Protocol):
    async def resolve(self, host: str, port: int) -> list[str]:
        """Every address ``host`` resolves to, as text (IPv4 or IPv6); ``HostNotFound`` when there is none."""
        ...


class WebhookQueue(Protocol):
    async def enqueue(self, delivery_id: str) -> None:
        """Hand a committed delivery to the sender (at least once; the sender skips delivered ones)."""
        ...
