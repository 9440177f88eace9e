"""Outbound webhooks on the in-memory fakes: subscriptions, scheduling, signing, retries, replay."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from adapters.memory.clock import SequentialIds
from adapters.memory.outbox import MemoryOutboxStore
from adapters.memory.resolver import StaticResolver
from adapters.memory.store import MemoryDatabase, MemoryUnitOfWork
from adapters.memory.webhooks import RecordingWebhookQueue, RecordingWebhookSender
from application.messaging.consumers import deliver
from application.ports.outbox import OutboxMessage
from application.subscriptions import build_registry
from application.webhooks import handlers as w
from application.webhooks.errors import DeliveryFailed
from application.webhooks.targets import WebhookTargets
from domain.webhooks.signature import sign, verify_signature
from domain.webhooks.subscription import DeliveryStatus, InvalidSubscription, Subscription
from tests.support.unit import peek_outbox

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
SECRET = "whsec-0123456789abcdef"
TARGETS = WebhookTargets(StaticResolver({}))  # the test names resolve to nothing: checked again at send


class FixedClock:
    def now(self) -> datetime:
        return NOW


def paid_message(event_id: str = "evt-1") -> OutboxMessage:
    return OutboxMessage(
        id=event_id, topic="orders.order_paid.v1", aggregate_id="o-1", aggregate_version=2, occurred_at=NOW,
        payload={"aggregate_id": "o-1", "amount": 5495, "currency": "EUR"},
    )


def test_a_signature_verifies_and_a_tampered_body_does_not() -> None:
    header = sign(SECRET, 1_700_000_000, b'{"a":1}')
    assert header.startswith("v1=")
    assert verify_signature(SECRET, "1700000000", b'{"a":1}', header)
    assert verify_signature(SECRET, 1_700_000_000, '{"a":1}', f"v0=abc, {header}")
    assert not verify_signature(SECRET, 1_700_000_000, b'{"a":2}', header)
    assert not verify_signature("another-secret-0000", 1_700_000_000, b'{"a":1}', header)
    assert not verify_signature(SECRET, 1_700_000_001, b'{"a":1}', header)


def test_a_stale_timestamp_is_refused_when_the_receiver_gives_the_time() -> None:
    header = sign(SECRET, 1_700_000_000, b"{}")
    assert verify_signature(SECRET, 1_700_000_000, b"{}", header, now=1_700_000_299)
    assert not verify_signature(SECRET, 1_700_000_000, b"{}", header, now=1_700_000_301)
    assert not verify_signature(SECRET, "not-a-number", b"{}", header)


@pytest.mark.parametrize(("url", "topics", "secret"), [
    ("ftp://example.com/x", ["*"], SECRET),
    ("https:///nohost", ["*"], SECRET),
    ("https://example.com/x", [], SECRET),
    ("https://example.com/x", ["webhooks.delivery_scheduled.v1"], SECRET),
    ("https://example.com/x", ["*"], "short"),
])
def test_an_invalid_subscription_is_refused(url: str, topics: list[str], secret: str) -> None:
    with pytest.raises(InvalidSubscription):
        Subscription.create(id="s", url=url, topics=topics, secret=secret, now=NOW)


def test_a_subscription_wants_its_topics_or_every_public_one() -> None:
    paid = Subscription.create(id="s", url="https://x.test/h", topics=["orders.order_paid.v1"], secret=SECRET, now=NOW)
    every = Subscription.create(id="t", url="https://x.test/h", topics=["*"], secret=SECRET, now=NOW)
    assert paid.wants("orders.order_paid.v1")
    assert not paid.wants("orders.order_placed.v1")
    assert every.wants("orders.order_placed.v1")
    assert not every.wants("webhooks.delivery_scheduled.v1")  # internal topics never leave


async def _setup(
    statuses: list[int],
) -> tuple[MemoryOutboxStore, object, RecordingWebhookSender, RecordingWebhookQueue]:
    db, ids, clock = MemoryDatabase(), SequentialIds(), FixedClock()

    def uow() -> MemoryUnitOfWork:
        return MemoryUnitOfWork(db, ids)

    await w.create_subscription(w.CreateSubscription(url="https://x.test/h", topics=["*"], secret=SECRET),
                                uow=uow, clock=clock, ids=ids, webhook_targets=TARGETS)
    await w.create_subscription(w.CreateSubscription(url="https://y.test/h", topics=["orders.order_placed.v1"]),
                                uow=uow, clock=clock, ids=ids, webhook_targets=TARGETS)
    return MemoryOutboxStore(db), uow, RecordingWebhookSender(statuses), RecordingWebhookQueue()


async def _relay_scheduled(outbox: MemoryOutboxStore, uow: object, registry: object) -> None:
    for message in [m for m in await peek_outbox(outbox) if m.topic == "webhooks.delivery_scheduled.v1"]:
        await deliver(registry, "webhook_dispatch", message, uow)  # type: ignore[arg-type]


async def test_an_event_is_retried_until_delivered_then_replayed_with_the_same_id() -> None:
    outbox, uow, sender, queue = await _setup([500, 0])
    clock = FixedClock()
    registry = build_registry(webhook_queue=queue, clock=clock, ids=SequentialIds())
    assert await deliver(registry, "webhooks", paid_message(), uow) is True
    assert await deliver(registry, "webhooks", paid_message(), uow) is False  # a redelivered event
    await _relay_scheduled(outbox, uow, registry)
    [delivery_id] = queue.enqueued  # only the subscription that wants orders.order_paid.v1

    for _ in range(2):
        with pytest.raises(DeliveryFailed):
            await w.send_delivery(delivery_id, uow=uow, sender=sender, clock=clock)
    assert await w.send_delivery(delivery_id, uow=uow, sender=sender, clock=clock) is True
    assert await w.send_delivery(delivery_id, uow=uow, sender=sender, clock=clock) is False  # a duplicate message

    async with uow() as tx:
        delivery = await tx.webhooks.get_delivery(delivery_id)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (DeliveryStatus.DELIVERED, 3, 200)

    await w.replay_delivery(w.ReplayDelivery(delivery_id=delivery_id), uow=uow, clock=clock)
    await _relay_scheduled(outbox, uow, registry)
    assert queue.enqueued == [delivery_id, delivery_id]
    assert await w.send_delivery(delivery_id, uow=uow, sender=sender, clock=clock) is True

    ids = {r.headers[w.ID_HEADER] for r in sender.requests}
    assert ids == {"evt-1"}
    last = sender.requests[-1]
    assert verify_signature(SECRET, last.headers[w.TIMESTAMP_HEADER], last.body, last.headers[w.SIGNATURE_HEADER])
    assert json.loads(last.body) == {"id": "evt-1", "type": "orders.order_paid.v1", "created": NOW.isoformat(),
                                     "data": paid_message().payload}


async def test_exhausted_retries_leave_the_delivery_failed_until_a_replay() -> None:
    outbox, uow, sender, queue = await _setup([503])
    registry = build_registry(webhook_queue=queue, clock=FixedClock(), ids=SequentialIds())
    await deliver(registry, "webhooks", paid_message("evt-2"), uow)
    await _relay_scheduled(outbox, uow, registry)
    [delivery_id] = queue.enqueued
    with pytest.raises(DeliveryFailed):
        await w.send_delivery(delivery_id, uow=uow, sender=sender, clock=FixedClock())
    await w.give_up_delivery(delivery_id, uow=uow)
    async with uow() as tx:
        failed = await tx.webhooks.get_delivery(delivery_id)
    assert (failed.status, failed.last_error) == (DeliveryStatus.FAILED, "HTTP 503")
    replayed = await w.replay_delivery(w.ReplayDelivery(delivery_id=delivery_id), uow=uow, clock=FixedClock())
    assert replayed.status is DeliveryStatus.PENDING
    assert await w.send_delivery(delivery_id, uow=uow, sender=sender, clock=FixedClock()) is True


async def test_a_removed_subscription_gets_nothing_more() -> None:
    outbox, uow, _sender, queue = await _setup([])
    registry = build_registry(webhook_queue=queue, clock=FixedClock(), ids=SequentialIds())
    [first, _] = await w.list_subscriptions(uow=uow)
    await w.remove_subscription(w.RemoveSubscription(subscription_id=first.id), uow=uow)
    await deliver(registry, "webhooks", paid_message("evt-3"), uow)
    await _relay_scheduled(outbox, uow, registry)
    assert queue.enqueued == []
