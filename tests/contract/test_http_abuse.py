"""Rate limits on unsafe storefront calls over HTTP (entrypoints/http/abuse.py), on the real stack.

Every in-process call comes from one address ("testclient"); each shopper is a cookie jar (``Browser``).
The limiter reads a fake clock, so what passes never depends on how fast the test runs, and its buckets
refill a token every 20 s or slower: Redis keeps a drained bucket for a minute or more of real time.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from dependency_injector import providers
from litestar.testing import TestClient
from prometheus_client.parser import text_string_to_metric_families

from adapters.memory.analytics import InlineTrackingQueue
from adapters.memory.clock import FakeClock
from adapters.redis.rate_limit import RedisRateLimiter
from tests.support.http_app import client_for, set_stock_policy, settings_for, stocked_products
from tests.support.network import free_port
from tests.support.storefront import Browser

BASE = "https://testserver.local"  # the cookies are Secure: a client sends them back over TLS only
LIMITS = {
    "store_write_rate_per_ip": 0.05, "store_write_burst_per_ip": 100,
    "store_write_rate_per_session": 0.05, "store_write_burst_per_session": 3,
}
LimitedClient = Callable[..., AbstractContextManager[TestClient]]


@pytest.fixture(scope="module")
async def sku(database_url: str, redis_url: str, engine) -> str:
    with client_for(settings_for(database_url, redis_url), base_url=BASE) as client:
        made = await stocked_products(client, engine, [("tee", 1500, "EUR", None)])
        tee = made["tee"][0]
        await set_stock_policy(client, engine, tee, track_inventory=False)  # these tests are not about stock
    return tee


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def limited(database_url: str, redis_url: str, clock: FakeClock) -> LimitedClient:
    """A client of an app with the limits on (``LIMITS``, changed by keyword), buckets of its own, and a
    limiter on ``clock``."""

    @contextmanager
    def start(**limits: float) -> Iterator[TestClient]:
        prefix = f"test:{uuid.uuid4().hex[:10]}:"
        settings = settings_for(database_url, redis_url, redis_key_prefix=prefix, **{**LIMITS, **limits})
        with client_for(settings, base_url=BASE) as client:
            container = client.app.state.container
            container.rate_limiter.override(
                providers.Singleton(RedisRateLimiter, container.redis, prefix=f"{prefix}rl:", now=clock.now))
            container.tracking_queue.override(providers.Factory(InlineTrackingQueue, container.uow_factory))
            yield client

    return start


def add(shopper: Browser, sku: str, **headers: str):
    return shopper.post("/store/cart/lines", json={"sku": sku, "quantity": 1}, headers=headers)


def quantity(shopper: Browser, sku: str) -> int:
    return sum(line["quantity"] for line in shopper.get("/store/cart").json()["lines"] if line["sku"] == sku)


def refused_so_far(client: TestClient, bucket: str) -> float:
    for family in text_string_to_metric_families(client.get("/metrics").text):
        for sample in family.samples:
            if sample.name == "emporium_store_writes_refused_total" and sample.labels == {"bucket": bucket}:
                return sample.value
    raise AssertionError(f"/metrics has no refusals of the {bucket} bucket")


def assert_too_many(response, retry_after: str) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["retry-after"] == retry_after
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"].endswith("/too-many-requests")
    assert problem["status"] == 429


def test_a_session_past_its_burst_is_refused_while_another_from_its_address_passes(limited, sku, clock) -> None:
    with limited() as client:
        ada, bob = Browser(client), Browser(client)
        sessions_refused = refused_so_far(client, "session")
        assert add(ada, sku).status_code == 201  # no cookie yet: the address's bucket alone
        assert [add(ada, sku).status_code for _ in range(3)] == [201] * 3
        refused = add(ada, sku, **{"Idempotency-Key": "ada-5"})
        assert_too_many(refused, "20")
        assert "session" in refused.json()["detail"]
        assert refused_so_far(client, "session") == sessions_refused + 1

        assert quantity(ada, sku) == 4, "the refused call added nothing"
        assert [add(bob, sku).status_code for _ in range(4)] == [201] * 4

        clock.advance(timedelta(seconds=19))
        assert_too_many(add(ada, sku, **{"Idempotency-Key": "ada-5"}), "1")
        clock.advance(timedelta(seconds=1))
        again = add(ada, sku, **{"Idempotency-Key": "ada-5"})
        assert again.status_code == 201, again.text
        assert "idempotent-replayed" not in again.headers, "the refused call claimed no Idempotency-Key"
        assert quantity(ada, sku) == 5
        assert_too_many(add(ada, sku), "20")


def test_the_address_bucket_stops_many_sessions_from_one_address(limited, sku) -> None:
    with limited(store_write_burst_per_ip=6) as client:
        addresses_refused = refused_so_far(client, "address")
        shoppers = [Browser(client) for _ in range(3)]
        for shopper in shoppers:  # each well within its own session's burst
            assert [add(shopper, sku).status_code for _ in range(2)] == [201, 201]
        refused = add(shoppers[0], sku)
        assert_too_many(refused, "20")
        assert "address" in refused.json()["detail"]
        assert_too_many(add(Browser(client), sku), "20")  # a new cart from there too
        assert refused_so_far(client, "address") == addresses_refused + 2
        assert [quantity(shopper, sku) for shopper in shoppers] == [2, 2, 2]


def test_reads_are_never_limited(limited, sku) -> None:
    with limited(store_write_rate_per_ip=0.005, store_write_burst_per_ip=1) as client:
        shopper = Browser(client)
        assert add(shopper, sku).status_code == 201
        assert_too_many(add(shopper, sku), "200")
        for _ in range(20):
            assert shopper.get("/store/cart").status_code == 200
            assert shopper.get("/store/products").status_code == 200


def test_storefront_events_are_not_limited_here(limited, sku) -> None:
    with limited(store_write_rate_per_ip=0.005, store_write_burst_per_ip=1) as client:
        shopper = Browser(client)
        assert add(shopper, sku).status_code == 201
        assert_too_many(add(shopper, sku), "200")
        batch = {"anonymous_id": f"abuse-{uuid.uuid4().hex[:12]}", "events": [
            {"type": "page_viewed", "id": uuid.uuid4().hex, "occurred_at": datetime.now(UTC).isoformat(), "path": "/"},
        ]}
        assert [shopper.post("/store/events", json=batch).status_code for _ in range(5)] == [202] * 5


def test_limits_at_zero_let_every_call_through(limited, sku) -> None:
    with limited(store_write_rate_per_ip=0, store_write_rate_per_session=0) as client:
        shopper = Browser(client)
        assert [add(shopper, sku).status_code for _ in range(10)] == [201] * 10
        assert quantity(shopper, sku) == 10


def test_redis_out_of_reach_is_a_503_with_retry_after_never_a_500(database_url: str) -> None:
    closed = f"redis://127.0.0.1:{free_port()}/0"
    with client_for(settings_for(database_url, closed, **LIMITS), base_url=BASE) as client:
        response = client.post("/store/cart/lines", json={})
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"] == "1"
        assert response.headers["content-type"].startswith("application/problem+json")
    with client_for(settings_for(database_url, closed), base_url=BASE) as client:
        # The same call with the limits off never asks Redis: the 503 above was the limiter's.
        assert client.post("/store/cart/lines", json={}).status_code == 400
