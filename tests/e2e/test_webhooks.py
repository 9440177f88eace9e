"""Outbound webhooks end to end: PostgreSQL, the real relay and Dramatiq worker processes, and a
subscriber HTTP server on 127.0.0.1 that fails the first two attempts."""

from __future__ import annotations

import json
import time
import uuid
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis
from dramatiq.common import dq_name

from adapters.dramatiq.webhooks import WEBHOOK_QUEUE
from adapters.memory.clock import SequentialIds
from adapters.postgres.unit_of_work import PostgresUnitOfWork
from application.webhooks.handlers import ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER
from domain.orders.order import OrderStatusChanged
from domain.staff.roles import Role
from domain.webhooks.signature import verify_signature
from tests.support.http_app import client_for, settings_for, token_for
from tests.support.notify import subscriber_server
from tests.support.processes import (
    RELAY_READY,
    WORKER_READY,
    ready,
    relay_process,
    running,
    service_env,
    skip_outbox_backlog,
    worker_process,
)
from tests.support.waiting import eventually

pytestmark = pytest.mark.slow

SECRET = "whsec-test-0123456789abcdef"


def webhook_queue_empty(redis_url: str, namespace: str) -> bool:
    """No webhook message left: none queued or in flight, none delayed for a retry."""
    client = redis.Redis.from_url(redis_url)
    try:
        return all(client.hlen(f"{namespace}:{queue}.msgs") == 0 for queue in (WEBHOOK_QUEUE, dq_name(WEBHOOK_QUEUE)))
    finally:
        client.close()


async def test_a_failing_subscriber_gets_the_event_once_signed_and_a_replay_carries_the_same_id(
    database_url, redis_url, engine, tmp_path: Path, unique,
) -> None:
    namespace = f"emporium-webhooks-{unique}"
    owner = {"Authorization": f"Bearer {await token_for(engine, Role.OWNER)}"}
    support = {"Authorization": f"Bearer {await token_for(engine, Role.SUPPORT)}"}
    with ExitStack() as stack:
        subscriber = stack.enter_context(subscriber_server(failures=2))
        # Loopback is a blocked address: the test-only allow-list admits this one receiver, host:port exactly.
        local = {"webhook_allow_http": "true", "webhook_allowed_hosts": subscriber.url.split("/")[2]}
        env = service_env(
            database_url, redis_url, namespace, EMPORIUM_WEBHOOK_MIN_BACKOFF_MS="200",
            EMPORIUM_WEBHOOK_MAX_BACKOFF_MS="1000", EMPORIUM_WEBHOOK_MAX_RETRIES="5",
            # A subscriber slow to answer on a busy machine must not count as a failed attempt (and a retry).
            EMPORIUM_WEBHOOK_TIMEOUT_SECONDS="120", **{f"EMPORIUM_{k.upper()}": v for k, v in local.items()},
        )
        settings = settings_for(database_url, redis_url, broker_namespace=namespace,
                                redis_key_prefix=f"test:{uuid.uuid4().hex[:8]}:", webhook_allow_http=True,
                                webhook_allowed_hosts=local["webhook_allowed_hosts"])
        client = stack.enter_context(client_for(settings))
        body = {"url": subscriber.url, "event_types": [OrderStatusChanged.topic], "secret": SECRET}
        assert client.post("/admin/webhooks", json=body, headers=support).status_code == 403
        created = client.post("/admin/webhooks", json=body, headers=owner)
        assert created.status_code == 201, created.text
        webhook = created.json()
        assert "secret" not in webhook or webhook["secret"] is None  # the owner chose it: not echoed
        assert webhook["id"] in [w["id"] for w in client.get("/admin/webhooks", headers=owner).json()]

        # Other tests leave their outbox rows behind in the shared database; the real relay would carry
        # that whole backlog through the worker first. Only this test's event matters here.
        print(f"outbox rows of earlier tests left unpublished: {skip_outbox_backlog(database_url)}")
        relay_log, worker_log = tmp_path / "relay.log", tmp_path / "worker.log"
        relay, worker = relay_process(env, relay_log), worker_process(env, worker_log)
        with running(relay, worker):
            await ready(relay, relay_log, RELAY_READY)
            await ready(worker, worker_log, WORKER_READY)
            order_id = f"o-{unique}"
            async with PostgresUnitOfWork(engine, SequentialIds()) as tx:
                tx.record(OrderStatusChanged(
                    aggregate_id=order_id, aggregate_version=5, occurred_at=datetime.now(UTC), customer_id=None,
                    currency="EUR", status="delivered", from_status="shipped", action="deliver",
                ))
                await tx.commit()

            await eventually(lambda: len(subscriber.ok()) == 1, what="the subscriber to answer 200 once")

            def log() -> list[dict]:
                return client.get(f"/admin/webhooks/{webhook['id']}/deliveries", headers=owner).json()

            # Nothing more may arrive: a delivered event is not retried. Rather than wait a while and
            # see, wait until nothing is left that could send again: the attempt is logged as
            # delivered and its broker message acked (none waiting, in flight or due for a retry).
            [entry] = await eventually(lambda: [d for d in log() if d["status"] == "delivered"],
                                       what="the delivery log to say delivered")
            await eventually(lambda: webhook_queue_empty(redis_url, namespace), what="the webhook queue to drain")
            assert [r.answered for r in subscriber.requests] == [500, 500, 200]
            assert (entry["attempts"], entry["last_status_code"], entry["last_error"]) == (3, 200, "")
            assert entry["delivered_at"] is not None

            replay = client.post(f"/admin/webhooks/deliveries/{entry['id']}/replay", headers=owner)
            assert replay.status_code == 202, replay.text
            await eventually(lambda: len(subscriber.ok()) == 2, what="the replay to reach the subscriber")
            [after] = await eventually(
                lambda: [d for d in log() if d["status"] == "delivered" and d["replays"] == 1],
                what="the delivery log to say the replay was delivered",
            )
            assert after["attempts"] == 4

    event_ids = {r.headers[ID_HEADER] for r in subscriber.requests}
    assert event_ids == {entry["event_id"]}
    for received in subscriber.requests:
        assert verify_signature(SECRET, received.headers[TIMESTAMP_HEADER], received.body,
                                received.headers[SIGNATURE_HEADER], now=int(time.time()))
        payload = json.loads(received.body)
        assert payload["id"] == entry["event_id"]
        assert payload["type"] == OrderStatusChanged.topic
        assert payload["data"]["aggregate_id"] == order_id
        assert payload["data"]["action"] == "deliver"
    assert not verify_signature("wrong-secret-0123456789", subscriber.requests[-1].headers[TIMESTAMP_HEADER],
                                subscriber.requests[-1].body, subscriber.requests[-1].headers[SIGNATURE_HEADER])
