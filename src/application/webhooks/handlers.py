"""Webhook use cases: staff manage subscriptions, a consumer schedules deliveries, the sender posts them.

Flow: an order event is committed to the outbox → the ``webhooks`` consumer writes one delivery
row per matching subscription and records ``WebhookDeliveryScheduled`` in the same transaction
→ the ``webhook_dispatch`` consumer hands the (now committed) delivery to the send queue →
the sender POSTs it; a failure raises so the broker retries with exponential backoff.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import msgspec

from application.messaging.registry import Command, handler
from application.ports.clock import Clock, IdGenerator
from application.ports.outbox import OutboxMessage
from application.ports.webhooks import WebhookRequest, WebhookSender, WebhookUnreachable
from application.webhooks.errors import DeliveryFailed, TargetRefused
from application.webhooks.ports import WebhookQueue, WebhookUnitOfWork
from application.webhooks.targets import WebhookTargets
from domain.webhooks.signature import sign
from domain.webhooks.subscription import (
    Delivery,
    DeliveryStatus,
    Subscription,
    WebhookDeliveryScheduled,
)

logger = logging.getLogger(__name__)

Uow = Callable[[], WebhookUnitOfWork]

ID_HEADER = "Emporium-Webhook-Id"
TIMESTAMP_HEADER = "Emporium-Timestamp"
SIGNATURE_HEADER = "Emporium-Signature"


# -- staff ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateSubscription(Command[Subscription]):
    url: str
    topics: list[str]
    secret: str | None = None  # None: one is generated (and shown once, in the answer)


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoveSubscription(Command[None]):
    subscription_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplayDelivery(Command[Delivery]):
    delivery_id: str


@handler
async def create_subscription(
    command: CreateSubscription, *, uow: Uow, clock: Clock, ids: IdGenerator, webhook_targets: WebhookTargets,
) -> Subscription:
    # What the sender would refuse (plain http, credentials, an internal address …) is refused now,
    # naming the field; the sender checks again on every attempt, whatever the name resolves to then.
    await webhook_targets.check_registration(command.url)
    subscription = Subscription.create(
        id=ids.new_id(), url=command.url, topics=command.topics, secret=command.secret or ids.new_secret(),
        now=clock.now(),
    )
    async with uow() as tx:
        await tx.webhooks.add_subscription(subscription)
        await tx.commit()
    return subscription


@handler
async def remove_subscription(command: RemoveSubscription, *, uow: Uow) -> None:
    async with uow() as tx:
        await tx.webhooks.deactivate(command.subscription_id)
        await tx.commit()


async def list_subscriptions(*, uow: Uow) -> list[Subscription]:
    async with uow() as tx:
        return await tx.webhooks.subscriptions()


async def list_deliveries(subscription_id: str, *, uow: Uow, limit: int = 100) -> list[Delivery]:
    async with uow() as tx:
        await tx.webhooks.get_subscription(subscription_id)
        return await tx.webhooks.deliveries(subscription_id, limit=limit)


@handler
async def replay_delivery(command: ReplayDelivery, *, uow: Uow, clock: Clock) -> Delivery:
    """Schedule the delivery again; the receiver sees the same ``Emporium-Webhook-Id``."""
    async with uow() as tx:
        delivery = await tx.webhooks.get_delivery(command.delivery_id, lock=True)
        delivery.replay()
        await tx.webhooks.save_delivery(delivery)
        tx.record(_scheduled(delivery, clock))
        await tx.commit()
    return delivery


def _scheduled(delivery: Delivery, clock: Clock) -> WebhookDeliveryScheduled:
    return WebhookDeliveryScheduled(
        aggregate_id=delivery.id, aggregate_version=delivery.replays + 1, occurred_at=clock.now(),
        delivery_id=delivery.id,
    )


# -- consumers ----------------------------------------------------------------------------------


def schedule_deliveries(
    clock: Clock, ids: IdGenerator,
) -> Callable[[OutboxMessage, WebhookUnitOfWork], Awaitable[None]]:
    """Consumer of public events: one delivery per matching subscription, in the consumer's transaction."""

    async def handle(message: OutboxMessage, tx: WebhookUnitOfWork) -> None:
        for subscription in await tx.webhooks.subscriptions():
            if not subscription.wants(message.topic):
                continue
            delivery = Delivery(
                id=ids.new_id(), subscription_id=subscription.id, event_id=message.id, topic=message.topic,
                payload=message.payload, occurred_at=message.occurred_at, created_at=clock.now(),
            )
            if await tx.webhooks.add_delivery(delivery):
                tx.record(_scheduled(delivery, clock))

    return handle


def dispatch_scheduled(queue: WebhookQueue) -> Callable[[WebhookDeliveryScheduled, object], Awaitable[None]]:
    """Consumer of ``WebhookDeliveryScheduled``: the delivery row is committed, so the sender finds it."""

    async def handle(event: WebhookDeliveryScheduled, _: object) -> None:
        await queue.enqueue(event.delivery_id)

    return handle


# -- the sender ---------------------------------------------------------------------------------


def delivery_body(delivery: Delivery) -> bytes:
    """The JSON body; the same bytes on every attempt and replay of a delivery."""
    return msgspec.json.encode({
        "id": delivery.event_id, "type": delivery.topic, "created": delivery.occurred_at.isoformat(),
        "data": delivery.payload,
    })


def signed_request(delivery: Delivery, subscription: Subscription, *, timestamp: int) -> WebhookRequest:
    body = delivery_body(delivery)
    return WebhookRequest(url=subscription.url, body=body, headers={
        "Content-Type": "application/json",
        "User-Agent": "Emporium-Webhooks/1",
        ID_HEADER: delivery.event_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(subscription.secret, timestamp, body),
    })


async def send_delivery(delivery_id: str, *, uow: Uow, sender: WebhookSender, clock: Clock) -> bool:
    """One attempt. False when there was nothing to do (delivered already, or unsubscribed) or when the
    target is refused (a blocked address, plain http …: logged and failed at once, never retried);
    ``DeliveryFailed`` after a logged failed attempt, so the broker retries with backoff.

    At least once, not exactly once: a replay requested while a retry is still due, or a broker
    redelivery after a crash between the POST and the log write, can POST the event again. That
    is why every attempt carries the event id for the receiver to deduplicate on."""
    async with uow() as tx:
        delivery = await tx.webhooks.get_delivery(delivery_id)
        if delivery.status is not DeliveryStatus.PENDING:
            return False
        subscription = await tx.webhooks.get_subscription(delivery.subscription_id)
    if not subscription.active:
        logger.info("webhook delivery %s dropped: subscription %s removed", delivery_id, subscription.id)
        return False
    # No transaction is held open across the HTTP call; the attempt is logged afterwards.
    request = signed_request(delivery, subscription, timestamp=int(clock.now().timestamp()))
    status: int | None = None
    error = ""
    refused = False
    try:
        status = await sender.send(request)
    except TargetRefused as exc:
        error, refused = exc.reason, True
    except WebhookUnreachable as exc:
        error = str(exc) or type(exc).__name__
    async with uow() as tx:
        delivery = await tx.webhooks.get_delivery(delivery_id, lock=True)
        ok = delivery.record_attempt(status_code=status, error=error, now=clock.now())
        if refused:
            delivery.give_up()
        await tx.webhooks.save_delivery(delivery)
        await tx.commit()
    if refused:
        logger.warning("webhook delivery %s refused (%s): subscription %s", delivery_id, error, subscription.id)
        return False
    if not ok:
        raise DeliveryFailed(f"delivery {delivery_id} attempt {delivery.attempts}: {delivery.last_error}")
    return True


async def give_up_delivery(delivery_id: str, *, uow: Uow) -> None:
    """Retries exhausted: the log says failed until a replay."""
    async with uow() as tx:
        delivery = await tx.webhooks.get_delivery(delivery_id, lock=True)
        if delivery.give_up():
            await tx.webhooks.save_delivery(delivery)
            await tx.commit()
            logger.warning("webhook delivery %s failed after %d attempts", delivery_id, delivery.attempts)
