"""Audit row 2: password hashing ran on the event loop (40 concurrent sign-ups with a taken e-mail made a
product GET take 10 s) and sign-up had no rate limit.

Now hashes run in a bounded thread pool beside the loop, and sign-up is limited per client address
and per e-mail with a counter taken before anything is hashed. How fast the GET stays is measured by
``emporium bench auth-flood``, not here: these tests wait on what happens, never on how long it took.
"""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import generate_latest

from adapters.system.passwords import Argon2Hasher
from entrypoints.http.metrics import REGISTRY
from tests.support.asgi import serving
from tests.support.hashing import WatchedArgon2
from tests.support.http_app import settings_for
from tests.support.waiting import eventually, within

PASSWORD = "correct horse 42"

pytestmark = pytest.mark.slow  # concurrent requests through the real app, threads hashing beside it


@pytest.fixture
def settings(database_url: str, redis_url: str, unique: str):
    # The default limits, but delays and windows of an hour: no outcome depends on how fast the test runs.
    return settings_for(database_url, redis_url, redis_key_prefix=f"test:{unique}:", auth_ip_window_seconds=3600,
                        auth_first_delay_seconds=3600, auth_max_delay_seconds=7200)


def _account(unique: str, n: int | str) -> dict[str, str]:
    return {"email": f"flood-{unique}-{n}@example.com", "password": PASSWORD, "name": "Ada"}


async def test_the_api_answers_while_password_hashes_are_in_flight(settings, unique) -> None:
    argon2 = WatchedArgon2(hold=True)
    async with (serving(settings, hasher=Argon2Hasher(argon2=argon2, threads=2)) as served,
                served.client("198.51.100.1") as shoppers, served.client("198.51.100.2") as other):
        sign_ups = [asyncio.create_task(shoppers.post("/store/customers", json=_account(unique, n)))
                    for n in range(4)]
        try:
            await eventually(lambda: argon2.in_flight >= 2, what="two hashes in flight")
            live = await within(other.get("/health/live"), what="GET /health/live while hashes are held")
            assert live.status_code == 200
            assert argon2.in_flight >= 2, "the GET was answered while the hashes were still running"
        finally:
            argon2.release()
        answers = await within(asyncio.gather(*sign_ups), what="the sign-ups, once their hashes run")
    assert [a.status_code for a in answers] == [201] * 4, [a.text for a in answers]
    assert argon2.most_at_once == 2, "the pool is bounded: calls beyond its threads queue"


async def test_sign_ups_from_one_address_past_the_limit_are_refused_before_hashing(settings, unique) -> None:
    argon2 = WatchedArgon2()
    statuses = []
    async with (serving(settings, hasher=Argon2Hasher(argon2=argon2)) as served,
                served.client("198.51.100.3") as client):
        for n in range(30):
            before = argon2.computed
            answer = await client.post("/store/customers", json=_account(unique, n))
            statuses.append(answer.status_code)
            if answer.status_code == 429:
                assert argon2.computed == before, "a refused sign-up computes no hash"
                assert int(answer.headers["retry-after"]) > 0
                assert answer.headers["content-type"].startswith("application/problem+json")
    admitted = statuses.count(201)
    assert 0 < admitted < 30
    assert statuses == [201] * admitted + [429] * (30 - admitted)


async def test_a_flood_of_sign_ups_with_a_taken_email_hashes_only_a_few(settings, unique) -> None:
    """Each from its own address, so only the per-account limit (five attempts, then delays) applies."""
    argon2 = WatchedArgon2()
    taken = _account(unique, "taken")
    async with serving(settings, hasher=Argon2Hasher(argon2=argon2)) as served:
        async with served.client("198.51.100.4") as owner:
            assert (await owner.post("/store/customers", json=taken)).status_code == 201
        clients = [served.client(f"203.0.113.{n}") for n in range(1, 41)]
        before = argon2.computed
        try:
            answers = await within(asyncio.gather(*(c.post("/store/customers", json=taken) for c in clients)),
                                   what="40 concurrent sign-ups with a taken e-mail")
        finally:
            for c in clients:
                await c.aclose()
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [409] * 4 + [429] * 36
    assert argon2.computed - before == 4


async def test_the_event_loop_lag_is_sampled_into_a_metric_while_the_app_runs(settings) -> None:
    def samples() -> float:
        return REGISTRY.get_sample_value("emporium_event_loop_lag_seconds_count") or 0.0

    async with serving(settings):
        before = samples()
        await eventually(lambda: samples() >= before + 3, what="three loop-lag samples")
    assert b"emporium_event_loop_lag_seconds_bucket" in generate_latest(REGISTRY)
    assert REGISTRY.get_sample_value("emporium_event_loop_lag_last_seconds") is not None
