"""Audit row 3: outbound webhooks must never reach an internal address (SSRF).

Every address class the audit used is refused when the owner registers the URL and again when the
worker sends (a name may resolve differently by then), the delivery log carries a short fixed reason
instead of the target's own error text, and a refused target is a permanent failure, not a retry storm.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from adapters.http.resolver import SystemResolver
from adapters.http.webhooks import HttpxWebhookSender
from adapters.memory.clock import SequentialIds
from adapters.memory.resolver import StaticResolver
from adapters.memory.store import MemoryDatabase, MemoryUnitOfWork
from application.ports.webhooks import WebhookRequest, WebhookUnreachable
from application.webhooks import handlers as w
from application.webhooks.errors import TargetRefused
from application.webhooks.targets import WebhookTargets
from domain.staff.roles import Role
from domain.webhooks.subscription import Delivery, DeliveryStatus, InvalidSubscription, Subscription
from entrypoints.settings import Settings
from tests.support.http_app import client_for, make_container, settings_for, token_for
from tests.support.network import free_port
from tests.support.notify import subscriber_server
from tests.support.waiting import GENEROUS
from tests.support.webhook_receivers import make_certificate, receiver, silent_listener

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
SECRET = "whsec-0123456789abcdef"
PUBLIC = "93.184.215.14"  # a global unicast address; never connected to here

# Every form the audit got through, and the neighbouring classes of the same hole.
INTERNAL_URLS = [
    "http://127.0.0.1:5432/",
    "https://127.0.0.1:5432/",
    "https://169.254.169.254/latest/meta-data/",
    "https://[::1]/",
    "https://0x7f000001/",
    "https://2130706433/",
    "https://0177.0.0.1/",
    "https://127.1/",
    "https://0.0.0.0/",
    "https://localhost:6379/",
    "https://user:pass@hooks.example.com/",
    "https://10.0.0.5/",
    "https://172.16.0.1/",
    "https://192.168.1.1/",
    "https://100.64.0.1/",
    "https://224.0.0.251/",
    "https://240.0.0.1/",
    "https://255.255.255.255/",
    "https://[::]/",
    "https://[::ffff:127.0.0.1]/",
    "https://[::127.0.0.1]/",
    "https://[fe80::1]/",
    "https://[fc00::1]/",
    "https://[fec0::1]/",
    "https://[ff02::1]/",
    "https://[2002:7f00:1::1]/",  # 6to4 around 127.0.0.1
    "https://[2001:0:4136:e378:8000:63bf:80ff:fffe]/",  # Teredo around 127.0.0.1
    "https://[64:ff9b::a9fe:a9fe]/",  # NAT64 around 169.254.169.254
    "https://[fe80::1%25eth0]/",
    "https://[::1/",
    "http://hooks.example.com/",  # plain HTTP without the development setting
]


@pytest.fixture(scope="module")
def client(database_url: str, redis_url: str):
    settings = settings_for(database_url, redis_url, redis_key_prefix=f"test:{uuid.uuid4().hex[:8]}:")
    with client_for(settings) as c:
        yield c


@pytest.mark.parametrize("url", INTERNAL_URLS)
async def test_a_webhook_url_aimed_inside_is_refused_at_registration_and_nothing_is_stored(
    client, engine, url: str,
) -> None:
    owner = {"Authorization": f"Bearer {await token_for(engine, Role.OWNER)}"}
    answer = client.post("/admin/webhooks", json={"url": url, "event_types": ["*"]}, headers=owner)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    problem = answer.json()
    assert problem["type"].endswith("invalid-subscription")
    assert problem["detail"].startswith("url: ")
    assert url not in [h["url"] for h in client.get("/admin/webhooks", headers=owner).json()]


# -- send time: rows stored before the checks existed, names that resolve elsewhere later ----------


async def _stored(url: str) -> tuple[object, str]:
    """A subscription row as an old registration left it, and one delivery waiting for the sender."""
    db, ids = MemoryDatabase(), SequentialIds()

    def uow() -> MemoryUnitOfWork:
        return MemoryUnitOfWork(db, ids)

    async with uow() as tx:
        await tx.webhooks.add_subscription(
            Subscription(id="s-1", url=url, topics=("*",), secret=SECRET, created_at=NOW))
        await tx.webhooks.add_delivery(Delivery(
            id="d-1", subscription_id="s-1", event_id="evt-1", topic="orders.order_paid.v1",
            payload={"aggregate_id": "o-1"}, occurred_at=NOW, created_at=NOW))
        await tx.commit()
    return uow, "d-1"


class _Clock:
    def now(self) -> datetime:
        return NOW


@pytest.mark.parametrize(("scheme", "reason"), [("http", "https required"), ("https", "blocked address")])
async def test_a_stored_subscription_aimed_at_loopback_is_never_posted_to_and_not_retried(
    scheme: str, reason: str,
) -> None:
    sender = make_container(Settings()).webhook_sender()  # the production sender, default settings
    with subscriber_server(failures=0) as receiver:
        uow, delivery_id = await _stored(receiver.url.replace("http://", f"{scheme}://", 1))
        try:
            sent = await w.send_delivery(delivery_id, uow=uow, sender=sender, clock=_Clock())
        finally:
            await sender.aclose()
    assert receiver.requests == []
    assert sent is False  # a refused target is a permanent failure: no DeliveryFailed, so no retry
    async with uow() as tx:  # type: ignore[operator]
        delivery = await tx.webhooks.get_delivery(delivery_id)
    assert (delivery.status, delivery.attempts, delivery.last_status_code, delivery.last_error) == (
        DeliveryStatus.FAILED, 1, None, reason)


@pytest.mark.parametrize("url", INTERNAL_URLS)
async def test_the_sender_refuses_every_internal_url_before_connecting(url: str) -> None:
    sender = make_container(Settings()).webhook_sender()
    try:
        with pytest.raises(TargetRefused) as refused:
            await sender.send(WebhookRequest(url=url, body=b"{}"))
    finally:
        await sender.aclose()
    assert str(refused.value) in {"blocked address", "https required", "invalid url"}


# -- the acceptance case: a name that answers a public address first and loopback the second time ------


async def test_a_name_that_resolves_public_at_registration_and_loopback_at_send_time_is_refused() -> None:
    with receiver() as local:  # what a rebinding name would point the worker at
        name = "hooks.rebind.example"
        resolver = StaticResolver({name: [[PUBLIC], ["127.0.0.1"]]})
        targets = WebhookTargets(resolver, allow_http=True)
        url = local.url(host=name)

        db, ids, clock = MemoryDatabase(), SequentialIds(), _Clock()

        def uow() -> MemoryUnitOfWork:
            return MemoryUnitOfWork(db, ids)

        subscription = await w.create_subscription(  # public today: accepted
            w.CreateSubscription(url=url, topics=["*"], secret=SECRET), uow=uow, clock=clock, ids=ids,
            webhook_targets=targets)
        async with uow() as tx:
            await tx.webhooks.add_delivery(Delivery(
                id="d-1", subscription_id=subscription.id, event_id="evt-1", topic="orders.order_paid.v1",
                payload={}, occurred_at=NOW, created_at=NOW))
            await tx.commit()
        sender = HttpxWebhookSender(targets, timeout=GENEROUS)
        try:
            sent = await w.send_delivery("d-1", uow=uow, sender=sender, clock=clock)
        finally:
            await sender.aclose()

    assert resolver.lookups == [name, name]
    assert local.requests == []
    assert sent is False
    async with uow() as tx:
        delivery = await tx.webhooks.get_delivery("d-1")
    assert (delivery.status, delivery.last_error) == (DeliveryStatus.FAILED, "blocked address")


BLOCKED_ADDRESSES = [
    "127.0.0.1", "127.255.255.254", "0.0.0.0", "10.1.2.3", "172.31.255.255", "192.168.0.1", "169.254.169.254",
    "100.64.0.1", "100.100.100.200", "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255",
    "192.0.0.8", "198.18.0.1", "192.0.2.1", "::1", "::", "::ffff:10.0.0.1", "::ffff:169.254.169.254",
    "::7f00:1", "fe80::1", "fe80::1%1", "fc00::1", "fd12:3456::1", "fec0::1", "ff02::1", "ff0e::1",
    "2002:a9fe:a9fe::1", "2002:c0a8:0101::1", "2001:0:4136:e378:8000:63bf:3fff:fdd2", "64:ff9b::a00:1",
    "2001:db8::1", "100::1",
]


@pytest.mark.parametrize("blocked", BLOCKED_ADDRESSES)
async def test_a_name_with_any_blocked_address_among_its_answers_is_refused(blocked: str) -> None:
    resolver = StaticResolver({"hooks.mixed.example": [[PUBLIC, blocked]]})
    targets = WebhookTargets(resolver)
    with pytest.raises(InvalidSubscription, match=r"^url: "):
        await targets.check_registration("https://hooks.mixed.example/h")
    sender = HttpxWebhookSender(targets, timeout=GENEROUS)
    try:
        with pytest.raises(TargetRefused, match=r"^blocked address$"):
            await sender.send(WebhookRequest(url="https://hooks.mixed.example/h", body=b"{}"))
    finally:
        await sender.aclose()


@pytest.mark.parametrize("url", [
    "https://hooks.example.com/emporium", f"https://{PUBLIC}/h", "https://[2606:4700:4700::1111]:8443/h",
    "https://[2002:5db8:d70e::1]/h",  # 6to4 around a public address
])
async def test_public_names_and_addresses_are_accepted(url: str) -> None:
    await WebhookTargets(StaticResolver({"hooks.example.com": [[PUBLIC]]})).check_registration(url)


async def test_a_name_that_does_not_resolve_yet_is_accepted_and_checked_again_when_sent() -> None:
    resolver = StaticResolver({})
    targets = WebhookTargets(resolver)
    await targets.check_registration("https://not-yet.example/h")
    sender = HttpxWebhookSender(targets, timeout=GENEROUS)
    try:
        with pytest.raises(WebhookUnreachable, match=r"^dns error$"):
            await sender.send(WebhookRequest(url="https://not-yet.example/h", body=b"{}"))
    finally:
        await sender.aclose()
    assert resolver.lookups == ["not-yet.example", "not-yet.example"]


# -- the test-only allow-list: exact host:port, never a general loopback exception ----------------------


async def test_the_allow_list_admits_exactly_its_host_and_port(database_url: str, redis_url: str, engine) -> None:
    owner = {"Authorization": f"Bearer {await token_for(engine, Role.OWNER)}"}
    with receiver() as local:
        settings = settings_for(database_url, redis_url, redis_key_prefix=f"test:{uuid.uuid4().hex[:8]}:",
                                webhook_allow_http=True, webhook_allowed_hosts=f"127.0.0.1:{local.port}")
        with client_for(settings) as client:
            def register(url: str) -> int:
                return client.post("/admin/webhooks", json={"url": url, "event_types": ["*"]},
                                   headers=owner).status_code

            assert register(local.url()) == 201
            assert register(f"http://127.0.0.1:{free_port()}/hook") == 422
            assert register(f"http://localhost:{local.port}/hook") == 422
            assert register(f"http://[::1]:{local.port}/hook") == 422
            assert register("http://hooks.example.com/hook") == 201  # plain http: the development setting


# -- the connection goes to the checked address, and TLS still checks the name -------------------------


async def test_the_connection_is_pinned_to_the_checked_address_with_the_name_in_host_sni_and_certificate(
    tmp_path,
) -> None:
    certificate = make_certificate(tmp_path, "receiver.test")
    with receiver(certificate=certificate) as local:
        resolver = StaticResolver({"receiver.test": [["127.0.0.1"]], "impostor.test": [["127.0.0.1"]]})
        targets = WebhookTargets(resolver, allowed_hosts=[f"receiver.test:{local.port}",
                                                          f"impostor.test:{local.port}"])
        sender = HttpxWebhookSender(targets, timeout=GENEROUS, ssl_context=certificate.client_context())
        try:
            # Neither name exists in DNS: only a connection made to the checked address can get through.
            assert await sender.send(WebhookRequest(url=local.url(host="receiver.test"), body=b"{}")) == 200
            with pytest.raises(WebhookUnreachable, match=r"^tls error$"):  # the certificate is not for this name
                await sender.send(WebhookRequest(url=local.url(host="impostor.test"), body=b"{}"))
        finally:
            await sender.aclose()
    [received] = local.requests
    assert received.headers["Host"] == f"receiver.test:{local.port}"
    assert local.server_names[0] == "receiver.test"


# -- the delivery log keeps a status code and a fixed reason, never the target's words --------------------


def _local_sender(*ports: int, timeout: float = GENEROUS) -> HttpxWebhookSender:
    allowed = [f"127.0.0.1:{port}" for port in ports]
    return HttpxWebhookSender(WebhookTargets(SystemResolver(), allow_http=True, allowed_hosts=allowed),
                              timeout=timeout)


async def _deliver_once(url: str, sender: HttpxWebhookSender) -> Delivery:
    uow, delivery_id = await _stored(url)
    try:
        with pytest.raises(w.DeliveryFailed):
            await w.send_delivery(delivery_id, uow=uow, sender=sender, clock=_Clock())
    finally:
        await sender.aclose()
    async with uow() as tx:  # type: ignore[operator]
        return await tx.webhooks.get_delivery(delivery_id)


async def test_an_error_answer_is_logged_as_its_status_and_its_body_is_not() -> None:
    with receiver(500, body=b"psycopg.OperationalError: password authentication failed for user admin") as local:
        delivery = await _deliver_once(local.url(), _local_sender(local.port))
    assert (delivery.status, delivery.last_status_code, delivery.last_error) == (
        DeliveryStatus.PENDING, 500, "HTTP 500")  # retried with backoff, as any error answer is


async def test_nobody_listening_is_logged_as_connection_refused() -> None:
    port = free_port()
    delivery = await _deliver_once(f"http://127.0.0.1:{port}/hook", _local_sender(port))
    assert (delivery.last_status_code, delivery.last_error) == (None, "connection refused")


async def test_a_target_that_never_answers_is_logged_as_a_timeout() -> None:
    with silent_listener() as port:
        delivery = await _deliver_once(f"http://127.0.0.1:{port}/hook", _local_sender(port, timeout=1.0))
    assert (delivery.last_status_code, delivery.last_error) == (None, "timeout")


async def test_a_redirect_is_not_followed() -> None:
    with receiver() as inside, receiver(302, headers={"Location": inside.url()}) as outside:
        sender = _local_sender(outside.port, inside.port)
        try:
            assert await sender.send(WebhookRequest(url=outside.url(), body=b"{}")) == 302
        finally:
            await sender.aclose()
    assert (len(outside.requests), inside.requests) == (1, [])
