"""Webhook subscriptions and the delivery log."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.postgres import tables as t
from domain.webhooks.subscription import (
    Delivery,
    DeliveryNotFound,
    DeliveryStatus,
    Subscription,
    SubscriptionNotFound,
)

_s, _d = t.webhook_subscriptions, t.webhook_deliveries


def _subscription(row: Any) -> Subscription:
    return Subscription(
        id=row.id, url=row.url, topics=tuple(row.topics), secret=row.secret, created_at=row.created_at,
        active=row.active,
    )


def _delivery(row: Any) -> Delivery:
    return Delivery(
        id=row.id, subscription_id=row.subscription_id, event_id=row.event_id, topic=row.topic,
        payload=row.payload, occurred_at=row.occurred_at, created_at=row.created_at,
        status=DeliveryStatus(row.status), attempts=row.attempts, replays=row.replays,
        last_status_code=row.last_status_code, last_error=row.last_error, last_attempt_at=row.last_attempt_at,
        delivered_at=row.delivered_at,
    )


def _log(delivery: Delivery) -> dict[str, Any]:
    return {
        "status": delivery.status.value, "attempts": delivery.attempts, "replays": delivery.replays,
        "last_status_code": delivery.last_status_code, "last_error": delivery.last_error,
        "last_attempt_at": delivery.last_attempt_at, "delivered_at": delivery.delivered_at,
    }


class PostgresWebhooks:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add_subscription(self, subscription: Subscription) -> None:
        await self._conn.execute(insert(_s).values(
            id=subscription.id, url=subscription.url, topics=list(subscription.topics), secret=subscription.secret,
            active=subscription.active, created_at=subscription.created_at,
        ))

    async def subscriptions(self) -> list[Subscription]:
        rows = await self._conn.execute(select(_s).where(_s.c.active).order_by(_s.c.created_at, _s.c.id))
        return [_subscription(r) for r in rows]

    async def get_subscription(self, subscription_id: str) -> Subscription:
        row = (await self._conn.execute(select(_s).where(_s.c.id == subscription_id))).first()
        if row is None:
            raise SubscriptionNotFound(f"no webhook subscription {subscription_id}")
        return _subscription(row)

    async def deactivate(self, subscription_id: str) -> None:
        result = await self._conn.execute(update(_s).where(_s.c.id == subscription_id).values(active=False))
        if result.rowcount != 1:
            raise SubscriptionNotFound(f"no webhook subscription {subscription_id}")

    async def add_delivery(self, delivery: Delivery) -> bool:
        result = await self._conn.execute(
            pg_insert(_d).values(
                id=delivery.id, subscription_id=delivery.subscription_id, event_id=delivery.event_id,
                topic=delivery.topic, payload=delivery.payload, occurred_at=delivery.occurred_at,
                created_at=delivery.created_at, **_log(delivery),
            ).on_conflict_do_nothing(index_elements=[_d.c.subscription_id, _d.c.event_id]).returning(_d.c.id)
        )
        return result.first() is not None

    async def get_delivery(self, delivery_id: str, *, lock: bool = False) -> Delivery:
        query = select(_d).where(_d.c.id == delivery_id)
        row = (await self._conn.execute(query.with_for_update() if lock else query)).first()
        if row is None:
            raise DeliveryNotFound(f"no webhook delivery {delivery_id}")
        return _delivery(row)

    async def save_delivery(self, delivery: Delivery) -> None:
        await self._conn.execute(update(_d).where(_d.c.id == delivery.id).values(**_log(delivery)))

    async def deliveries(self, subscription_id: str, *, limit: int = 100) -> list[Delivery]:
        rows = await self._conn.execute(
            select(_d).where(_d.c.subscription_id == subscription_id)
            .order_by(_d.c.created_at.desc(), _d.c.id).limit(limit)
        )
        return [_delivery(r) for r in rows]
