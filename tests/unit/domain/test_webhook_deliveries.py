"""Outbound webhooks: subscriptions refused at their edges, delivery attempts, signatures; staff roles."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest

from domain.staff.roles import Role, role_allows
from domain.webhooks.signature import sign, verify_signature
from domain.webhooks.subscription import (
    PUBLIC_TOPICS,
    Delivery,
    DeliveryStatus,
    InvalidSubscription,
    Subscription,
    WebhookDeliveryScheduled,
)

T0 = datetime(2026, 9, 1, tzinfo=UTC)
SECRET = "s" * 16
PAID = "orders.order_paid.v1"
PLACED = "orders.order_placed.v1"


def subscribe(**more: object) -> Subscription:
    fields: dict[str, object] = {"id": "sub-1", "url": "https://shop.example/hooks", "topics": [PAID],
                                 "secret": SECRET, "now": T0}
    fields.update(more)
    return Subscription.create(**fields)  # type: ignore[arg-type]


def test_a_subscription_keeps_its_topics_sorted_once_and_starts_active() -> None:
    sub = subscribe(topics=[PLACED, PAID, PLACED], url="http://localhost:8080/in")
    assert sub == Subscription(id="sub-1", url="http://localhost:8080/in", topics=(PAID, PLACED), secret=SECRET,
                               created_at=T0, active=True)
    assert {PLACED, PAID, "orders.order_status_changed.v1", "orders.order_refunded.v1"} == PUBLIC_TOPICS


@pytest.mark.parametrize("url", ["ftp://shop.example/x", "/hooks", "https://", "shop.example/hooks"])
def test_a_subscription_url_is_absolute_http_or_https(url: str) -> None:
    with pytest.raises(InvalidSubscription, match=r"^the URL must be absolute http or https$"):
        subscribe(url=url)


def test_a_subscription_names_known_public_topics_or_everything() -> None:
    with pytest.raises(InvalidSubscription, match=r"^name at least one event type, or '\*'$"):
        subscribe(topics=[])
    with pytest.raises(InvalidSubscription, match=r"^unknown event types: inventory.stock_changed.v1, nope$"):
        subscribe(topics=["nope", PAID, "inventory.stock_changed.v1"])
    assert subscribe(topics=["*"]).topics == ("*",)


def test_a_secret_has_at_least_sixteen_characters() -> None:
    with pytest.raises(InvalidSubscription, match=r"^the secret must be at least 16 characters$"):
        subscribe(secret="s" * 15)
    assert subscribe(secret="s" * 16).secret == "s" * 16


def test_a_subscription_wants_its_public_topics_while_active() -> None:
    sub = subscribe(topics=[PAID])
    assert sub.wants(PAID)
    assert not sub.wants(PLACED)
    everything = subscribe(topics=["*"])
    assert everything.wants(PLACED)
    assert not everything.wants("inventory.stock_changed.v1")
    paused = Subscription(id="s", url="https://x.example", topics=("*",), secret=SECRET, created_at=T0,
                          active=False)
    assert not paused.wants(PAID)


def delivery() -> Delivery:
    return Delivery(id="d1", subscription_id="sub-1", event_id="ev-1", topic=PAID, payload={"id": "o1"},
                    occurred_at=T0, created_at=T0)


def test_a_new_delivery_is_pending_and_untried() -> None:
    d = delivery()
    assert (d.status, d.attempts, d.replays, d.last_status_code, d.last_error, d.last_attempt_at, d.delivered_at) == (
        DeliveryStatus.PENDING, 0, 0, None, "", None, None)
    assert WebhookDeliveryScheduled.topic == "webhooks.delivery_scheduled.v1"


@pytest.mark.parametrize("code", [200, 204, 299])
def test_a_2xx_answer_delivers(code: int) -> None:
    d = delivery()
    at = T0 + timedelta(seconds=5)
    assert d.record_attempt(status_code=code, error="ignored", now=at) is True
    assert (d.status, d.attempts, d.last_status_code, d.last_error, d.last_attempt_at, d.delivered_at) == (
        DeliveryStatus.DELIVERED, 1, code, "", at, at)


@pytest.mark.parametrize(("code", "error", "logged"), [(199, "", "HTTP 199"), (300, "", "HTTP 300"),
                                                        (500, "boom", "boom"), (None, "timed out", "timed out"),
                                                        (None, "", "HTTP None")])
def test_any_other_answer_is_logged_and_stays_pending(code: int | None, error: str, logged: str) -> None:
    d = delivery()
    assert d.record_attempt(status_code=code, error=error, now=T0) is False
    assert (d.status, d.attempts, d.last_status_code, d.last_error, d.delivered_at) == (
        DeliveryStatus.PENDING, 1, code, logged, None)


def test_a_logged_error_is_cut_at_five_hundred_characters() -> None:
    d = delivery()
    d.record_attempt(status_code=500, error="x" * 501, now=T0)
    assert d.last_error == "x" * 500


def test_giving_up_fails_a_pending_delivery_only() -> None:
    d = delivery()
    assert d.give_up() is True
    assert d.status is DeliveryStatus.FAILED
    assert d.give_up() is False
    done = delivery()
    done.record_attempt(status_code=200, error="", now=T0)
    assert done.give_up() is False
    assert done.status is DeliveryStatus.DELIVERED


def test_a_replay_sends_again_and_counts() -> None:
    d = delivery()
    d.give_up()
    d.replay()
    d.replay()
    assert (d.status, d.replays, d.event_id) == (DeliveryStatus.PENDING, 2, "ev-1")


def test_a_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    assert sign("secret", 1700000000, b'{"a":1}') == sign("secret", "1700000000", b'{"a":1}')
    expected = hmac.new(b"secret", b'1700000000.{"a":1}', hashlib.sha256).hexdigest()
    assert sign("secret", 1700000000, b'{"a":1}') == f"v1={expected}"


def test_a_valid_signature_verifies_among_several_and_as_text() -> None:
    header = sign(SECRET, 1000, b"body")
    assert verify_signature(SECRET, 1000, b"body", header)
    assert verify_signature(SECRET, "1000", "body", f"v0=abc, {header}")
    assert not verify_signature(SECRET, 1000, b"body!", header)
    assert not verify_signature("another-secret!!", 1000, b"body", header)
    assert not verify_signature(SECRET, 1000, b"body", header.replace("v1=", "v2="))
    assert not verify_signature(SECRET, 1000, b"body", "")


def test_a_signature_is_accepted_up_to_the_tolerance_and_not_a_second_later() -> None:
    header = sign(SECRET, 1000, b"body")
    assert verify_signature(SECRET, 1000, b"body", header, now=1300)
    assert verify_signature(SECRET, 1000, b"body", header, now=700)
    assert not verify_signature(SECRET, 1000, b"body", header, now=1301)
    assert not verify_signature(SECRET, 1000, b"body", header, now=699)
    assert verify_signature(SECRET, 1000, b"body", header, now=1010, tolerance=10)
    assert not verify_signature(SECRET, 1000, b"body", header, now=1011, tolerance=10)


@pytest.mark.parametrize("timestamp", ["soon", None, "1.5"])
def test_a_timestamp_that_is_not_a_whole_number_fails(timestamp: object) -> None:
    assert not verify_signature(SECRET, timestamp, b"body", sign(SECRET, 1000, b"body"))  # type: ignore[arg-type]


def test_the_owner_may_do_everything_and_other_roles_what_names_them() -> None:
    assert role_allows(Role.OWNER, frozenset())
    assert role_allows(Role.SUPPORT, frozenset({Role.SUPPORT, Role.FULFILMENT}))
    assert not role_allows(Role.MERCHANDISER, frozenset({Role.SUPPORT}))
    assert [r.value for r in Role] == ["owner", "merchandiser", "fulfilment", "support"]


def test_signatures_separated_by_a_bare_comma_are_each_tried() -> None:
    header = sign(SECRET, 1000, b"body")
    assert verify_signature(SECRET, 1000, b"body", f"v1=0000,{header}")
