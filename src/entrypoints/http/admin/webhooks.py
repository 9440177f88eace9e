"""Outbound webhook subscriptions and their delivery log, for the owner."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, delete, get, post
from litestar.params import JSONBody, PathParameter
from msgspec import Meta

from application.webhooks import handlers as w
from domain.staff.roles import Role
from domain.webhooks.subscription import Delivery, Subscription
from entrypoints.http.admin.products import Strict
from entrypoints.http.auth import roles, staff_guard
from entrypoints.http.dependencies import Bus

OWNER = roles(Role.OWNER)
Id = Annotated[str, PathParameter(max_length=64)]
EventType = Annotated[str, Meta(min_length=1, max_length=200)]


class WebhookCreate(Strict):
    url: Annotated[str, Meta(min_length=8, max_length=2000)]
    event_types: Annotated[list[EventType], Meta(min_length=1, max_length=50)]
    secret: Annotated[str, Meta(min_length=16, max_length=200)] | None = None


class Webhook(msgspec.Struct, kw_only=True):
    id: str
    url: str
    event_types: list[str]
    active: bool
    created_at: datetime
    secret: str | None = None  # only in the answer to its creation


class WebhookDelivery(msgspec.Struct, kw_only=True):
    id: str
    subscription_id: str
    event_id: str  # the Emporium-Webhook-Id header of every attempt and replay
    event_type: str
    status: str
    attempts: int
    replays: int
    last_status_code: int | None
    last_error: str
    last_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime


def webhook(subscription: Subscription, *, with_secret: bool = False) -> Webhook:
    return Webhook(
        id=subscription.id, url=subscription.url, event_types=list(subscription.topics), active=subscription.active,
        created_at=subscription.created_at, secret=subscription.secret if with_secret else None,
    )


def delivery(d: Delivery) -> WebhookDelivery:
    return WebhookDelivery(
        id=d.id, subscription_id=d.subscription_id, event_id=d.event_id, event_type=d.topic, status=d.status.value,
        attempts=d.attempts, replays=d.replays, last_status_code=d.last_status_code, last_error=d.last_error,
        last_attempt_at=d.last_attempt_at, delivered_at=d.delivered_at, created_at=d.created_at,
    )


class AdminWebhookController(Controller):
    path = "/admin/webhooks"
    tags = ["admin: webhooks"]
    guards = [staff_guard]

    @post("/", operation_id="admin_create_webhook", opt=OWNER, status_code=201)
    async def create(self, request: Request[Any, Any, Any], bus: Bus, data: JSONBody[WebhookCreate]) -> Webhook:
        command = w.CreateSubscription(url=data.url, topics=data.event_types, secret=data.secret)
        created = await bus.handle(command)
        return webhook(created, with_secret=data.secret is None)

    @get("/", operation_id="admin_list_webhooks", opt=OWNER)
    async def list_webhooks(self, request: Request[Any, Any, Any]) -> list[Webhook]:
        return [webhook(s) for s in await w.list_subscriptions(uow=request.app.state.container.uow_factory())]

    @delete("/{webhook_id:str}", operation_id="admin_delete_webhook", opt=OWNER, status_code=204)
    async def remove(self, bus: Bus, webhook_id: Id) -> None:
        await bus.handle(w.RemoveSubscription(subscription_id=webhook_id))

    @get("/{webhook_id:str}/deliveries", operation_id="admin_list_webhook_deliveries", opt=OWNER)
    async def deliveries(self, request: Request[Any, Any, Any], webhook_id: Id) -> list[WebhookDelivery]:
        rows = await w.list_deliveries(webhook_id, uow=request.app.state.container.uow_factory())
        return [delivery(d) for d in rows]

    @post("/deliveries/{delivery_id:str}/replay", operation_id="admin_replay_webhook_delivery", opt=OWNER,
          status_code=202)
    async def replay(self, bus: Bus, delivery_id: Id) -> WebhookDelivery:
        replayed = await bus.handle(w.ReplayDelivery(delivery_id=delivery_id))
        return delivery(replayed)
