"""One suite per port, run on the fake and on the real adapter: the webhook sender (``WebhookSenderContract``:
recording fake / httpx), the resolver it checks names through (``ResolverContract``: static table / the
system's), the webhook store (``WebhookStoreContract``: memory / PostgreSQL) and the sent-notification log
(``SentNotificationsContract``: memory / PostgreSQL)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from adapters.http.resolver import SystemResolver
from adapters.http.webhooks import HttpxWebhookSender
from adapters.memory.customers import MemorySentNotifications
from adapters.memory.resolver import StaticResolver
from adapters.memory.webhooks import RecordingWebhookSender
from adapters.postgres.notifications import PostgresSentNotifications
from application.ports.webhooks import WebhookRequest, WebhookUnreachable
from application.webhooks.errors import HostNotFound
from application.webhooks.targets import WebhookTargets
from domain.shared.errors import NotFound
from domain.webhooks.subscription import Delivery, DeliveryStatus, Subscription
from tests.support.network import free_port
from tests.support.notify import subscriber_server
from tests.support.waiting import GENEROUS

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


# -- WebhookSender ----------------------------------------------------------------------------------


class WebhookSenderContract:
    """What every WebhookSender does alike. A subclass provides ``sender_and_url``: a sender whose subscriber
    fails once then succeeds, the subscriber's URL, and a sender with a URL nobody listens on."""

    @pytest.fixture
    def sender_and_url(self):
        raise NotImplementedError("a subclass provides the adapter under test")

    async def test_the_sender_reports_the_status_and_raises_without_a_response(self, sender_and_url) -> None:
        sender, url, unreachable, closed_url = sender_and_url
        request = WebhookRequest(url=url, body=b'{"id":"e"}', headers={"Emporium-Webhook-Id": "e"})
        assert await sender.send(request) == 500
        assert await sender.send(request) == 200
        with pytest.raises(WebhookUnreachable):
            await unreachable.send(WebhookRequest(url=closed_url, body=b"{}"))


class TestRecordingWebhookSender(WebhookSenderContract):
    @pytest.fixture
    def sender_and_url(self):
        return RecordingWebhookSender([500]), "http://127.0.0.1:9/ok", RecordingWebhookSender([0]), "http://x.test/"


class TestHttpxWebhookSender(WebhookSenderContract):
    @pytest.fixture
    async def sender_and_url(self) -> AsyncIterator[tuple[HttpxWebhookSender, str, HttpxWebhookSender, str]]:
        closed = free_port()
        with subscriber_server(failures=1) as subscriber:
            # Loopback is refused unless allow-listed, host:port exactly (tests and development only).
            subscriber_port = subscriber.url.split(":")[2].split("/")[0]
            targets = WebhookTargets(SystemResolver(), allow_http=True,
                                     allowed_hosts=f"127.0.0.1:{subscriber_port},127.0.0.1:{closed}")
            sender = HttpxWebhookSender(targets, timeout=GENEROUS)  # a slow answer on a busy machine is an answer
            yield sender, subscriber.url, sender, f"http://127.0.0.1:{closed}/closed"
            await sender.aclose()


# -- Resolver (where the webhook policy looks names up) ------------------------------------------------


class ResolverContract:
    """What every Resolver does alike. A subclass provides ``resolver``: one that knows ``localhost``."""

    @pytest.fixture
    def resolver(self):
        raise NotImplementedError("a subclass provides the adapter under test")

    async def test_a_name_resolves_to_its_addresses_and_an_unknown_one_to_none(self, resolver) -> None:
        addresses = await resolver.resolve("localhost", 443)
        assert addresses
        assert set(addresses) & {"127.0.0.1", "::1"}
        with pytest.raises(HostNotFound):
            await resolver.resolve("nowhere.invalid", 443)  # .invalid never resolves (RFC 6761)


class TestStaticResolver(ResolverContract):
    @pytest.fixture
    def resolver(self) -> StaticResolver:
        return StaticResolver({"localhost": [["127.0.0.1", "::1"]]})


class TestSystemResolver(ResolverContract):
    @pytest.fixture
    def resolver(self) -> SystemResolver:
        return SystemResolver()


# -- WebhookStore (the unit of work's ``webhooks``) --------------------------------------------------


class WebhookStoreContract:
    """What every WebhookStore does alike. A subclass provides ``harness``: units of work of its kind, whose
    ``webhooks`` is the store under test."""

    @pytest.fixture
    def harness(self):
        raise NotImplementedError("a subclass provides the adapter under test")

    async def test_a_delivery_is_unique_per_subscription_and_event(self, harness) -> None:
        tag = uuid.uuid4().hex[:8]
        subscription = Subscription.create(id=f"s-{tag}", url="https://x.test/h", topics=["*"],
                                           secret="0123456789abcdef", now=NOW)

        def delivery(n: int) -> Delivery:
            return Delivery(id=f"d{n}-{tag}", subscription_id=subscription.id, event_id=f"e-{tag}",
                            topic="orders.order_paid.v1", payload={"amount": 1}, occurred_at=NOW,
                            created_at=NOW + timedelta(seconds=n))

        async with harness.uow()() as tx:
            await tx.webhooks.add_subscription(subscription)
            assert await tx.webhooks.add_delivery(delivery(1)) is True
            assert await tx.webhooks.add_delivery(delivery(2)) is False
            await tx.commit()
        async with harness.uow()() as tx:
            stored = await tx.webhooks.get_delivery(f"d1-{tag}", lock=True)
            assert stored.payload == {"amount": 1}
            stored.record_attempt(status_code=502, error="", now=NOW)
            await tx.webhooks.save_delivery(stored)
            await tx.commit()
        async with harness.uow()() as tx:
            [logged] = await tx.webhooks.deliveries(subscription.id)
            assert (logged.attempts, logged.last_status_code, logged.last_error) == (1, 502, "HTTP 502")
            assert logged.status is DeliveryStatus.PENDING
            assert subscription.id in [s.id for s in await tx.webhooks.subscriptions()]
            await tx.webhooks.deactivate(subscription.id)
            await tx.commit()
        async with harness.uow()() as tx:
            assert subscription.id not in [s.id for s in await tx.webhooks.subscriptions()]
            assert (await tx.webhooks.get_subscription(subscription.id)).active is False
            with pytest.raises(NotFound):
                await tx.webhooks.get_delivery(f"nope-{tag}")
            with pytest.raises(NotFound):
                await tx.webhooks.deactivate(f"nope-{tag}")


class TestMemoryWebhookStore(WebhookStoreContract):
    @pytest.fixture
    def harness(self, memory_harness):
        return memory_harness


class TestPostgresWebhookStore(WebhookStoreContract):
    @pytest.fixture
    def harness(self, postgres_harness):
        return postgres_harness


# -- SentNotifications (the once-only log of e-mails sent) ------------------------------------------


class SentNotificationsContract:
    """What every SentNotifications log does alike. A subclass provides ``sent_log``: a log of its kind."""

    @pytest.fixture
    def sent_log(self):
        raise NotImplementedError("a subclass provides the adapter under test")

    async def test_the_sent_log_remembers_a_key_and_tolerates_recording_it_twice(self, sent_log) -> None:
        key = f"order_confirmation:{uuid.uuid4().hex}"
        assert await sent_log.was_sent(key) is False
        await sent_log.record(key, to="a@example.com", template="order_confirmation", at=NOW)
        await sent_log.record(key, to="a@example.com", template="order_confirmation", at=NOW)
        assert await sent_log.was_sent(key) is True


class TestMemorySentNotifications(SentNotificationsContract):
    @pytest.fixture
    def sent_log(self) -> MemorySentNotifications:
        return MemorySentNotifications()


class TestPostgresSentNotifications(SentNotificationsContract):
    @pytest.fixture
    def sent_log(self, engine) -> PostgresSentNotifications:
        return PostgresSentNotifications(engine)
