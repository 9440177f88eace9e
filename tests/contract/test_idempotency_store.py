"""The IdempotencyStore contract (``IdempotencyStoreContract``) on the in-memory fake, Redis and PostgreSQL:
one claim runs, repeats replay, a dead claim is taken over."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from adapters.memory.idempotency import MemoryIdempotencyStore
from adapters.postgres.idempotency import PostgresIdempotencyStore
from adapters.redis.client import make_redis
from adapters.redis.idempotency import RedisIdempotencyStore
from application.ports.idempotency import LEASE, Claim, StoredResponse

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


class IdempotencyStoreContract:
    """What every IdempotencyStore does alike. A subclass provides ``store``: a store of its kind."""

    @pytest.fixture
    def store(self):
        raise NotImplementedError("a subclass provides the adapter under test")

    async def test_claims_replays_mismatches_and_takeover(self, store, unique) -> None:
        first = await store.claim(scope=unique, key="k", request_hash="a", now=NOW)
        assert first.claim is Claim.NEW
        assert (await store.claim(scope=unique, key="k", request_hash="a", now=NOW)).claim is Claim.RUNNING
        assert (await store.claim(scope=unique, key="k", request_hash="b", now=NOW)).claim is Claim.MISMATCH
        # The first request's process died: after the lease the same request may run again, once.
        later = NOW + timedelta(minutes=3)
        assert (await store.claim(scope=unique, key="k", request_hash="a", now=later)).claim is Claim.NEW
        assert (await store.claim(scope=unique, key="k", request_hash="a", now=later)).claim is Claim.RUNNING
        await store.finish(scope=unique, key="k", response=StoredResponse(status=201, headers=[("x", "1")], body=b"ok"))
        replay = await store.claim(scope=unique, key="k", request_hash="a", now=later)
        assert replay.claim is Claim.REPLAY
        assert replay.response == StoredResponse(status=201, headers=[("x", "1")], body=b"ok")
        await store.abandon(scope=unique, key="k")  # a finished key is kept
        assert (await store.claim(scope=unique, key="k", request_hash="a", now=later)).claim is Claim.REPLAY
        assert await store.prune(before=later + timedelta(days=2)) >= 1

    async def test_a_renewed_claim_keeps_running_and_lapses_a_lease_after_its_last_renewal(self, store, unique) -> None:
        """The process running a request renews its claim; one that died stops renewing, and a retry
        takes the claim over once a whole lease has passed since the last renewal — not before."""
        assert (await store.claim(scope=unique, key="k", request_hash="a", now=NOW)).claim is Claim.NEW
        renewed = NOW + LEASE - timedelta(seconds=1)
        await store.renew(claims=[(unique, "k"), (unique, "unknown")], now=renewed)
        just_before = renewed + LEASE - timedelta(milliseconds=10)
        assert (await store.claim(scope=unique, key="k", request_hash="a", now=just_before)).claim is Claim.RUNNING
        assert (await store.claim(scope=unique, key="k", request_hash="b", now=just_before)).claim is Claim.MISMATCH
        lapsed = renewed + LEASE + timedelta(milliseconds=10)
        assert (await store.claim(scope=unique, key="k", request_hash="a", now=lapsed)).claim is Claim.NEW
        assert (await store.claim(scope=unique, key="k", request_hash="a", now=lapsed)).claim is Claim.RUNNING
        await store.renew(claims=[], now=lapsed)  # nothing running: nothing to do

    async def test_renewing_a_finished_or_abandoned_claim_changes_nothing(self, store, unique) -> None:
        response = StoredResponse(status=201, headers=[], body=b"{}")
        assert (await store.claim(scope=unique, key="done", request_hash="a", now=NOW)).claim is Claim.NEW
        await store.finish(scope=unique, key="done", response=response)
        assert (await store.claim(scope=unique, key="gone", request_hash="a", now=NOW)).claim is Claim.NEW
        await store.abandon(scope=unique, key="gone")
        await store.renew(claims=[(unique, "done"), (unique, "gone")], now=NOW + timedelta(seconds=1))
        replay = await store.claim(scope=unique, key="done", request_hash="a", now=NOW + timedelta(seconds=2))
        assert (replay.claim, replay.response) == (Claim.REPLAY, response)
        assert (await store.claim(scope=unique, key="gone", request_hash="b", now=NOW)).claim is Claim.NEW

    async def test_an_abandoned_claim_lets_the_key_run_again(self, store, unique) -> None:
        assert (await store.claim(scope=unique, key="k", request_hash="a", now=NOW)).claim is Claim.NEW
        await store.abandon(scope=unique, key="k")  # the request failed on our side: the client may retry
        assert (await store.claim(scope=unique, key="k", request_hash="b", now=NOW)).claim is Claim.NEW

    async def test_a_key_belongs_to_its_scope(self, store, unique) -> None:
        assert (await store.claim(scope=f"{unique}-1", key="k", request_hash="a", now=NOW)).claim is Claim.NEW
        assert (await store.claim(scope=f"{unique}-2", key="k", request_hash="b", now=NOW)).claim is Claim.NEW
        assert (await store.claim(scope=f"{unique}-1", key="k", request_hash="b", now=NOW)).claim is Claim.MISMATCH


class TestMemoryIdempotencyStore(IdempotencyStoreContract):
    @pytest.fixture
    def store(self) -> MemoryIdempotencyStore:
        return MemoryIdempotencyStore()


class TestPostgresIdempotencyStore(IdempotencyStoreContract):
    @pytest.fixture
    def store(self, engine) -> PostgresIdempotencyStore:
        return PostgresIdempotencyStore(engine)


class TestRedisIdempotencyStore(IdempotencyStoreContract):
    @pytest.fixture
    async def store(self, redis_url, unique) -> AsyncIterator[RedisIdempotencyStore]:
        redis = make_redis(redis_url)
        yield RedisIdempotencyStore(redis, prefix=f"test:{unique}:")
        keys = [k async for k in redis.scan_iter(match=f"test:{unique}:*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()

    async def test_a_finished_key_is_kept_for_two_days_and_a_running_claim_for_minutes(
        self, store, redis_url, unique,
    ) -> None:
        await store.claim(scope="s", key="running", request_hash="a", now=NOW)
        await store.claim(scope="s", key="done", request_hash="a", now=NOW)
        await store.finish(scope="s", key="done", response=StoredResponse(status=200, headers=[], body=b"{}"))
        redis = make_redis(redis_url)
        try:
            running = await redis.ttl(f"test:{unique}:idem:s:running")
            done = await redis.ttl(f"test:{unique}:idem:s:done")
        finally:
            await redis.aclose()
        assert 0 < running <= 600
        assert 24 * 3600 < done <= 48 * 3600

    async def test_a_renewal_keeps_a_long_running_claims_key_alive(self, store, redis_url, unique) -> None:
        await store.claim(scope="s", key="long", request_hash="a", now=NOW)
        redis = make_redis(redis_url)
        try:
            name = f"test:{unique}:idem:s:long"
            await redis.expire(name, 5)  # as if it had run for almost ten minutes
            await store.renew(claims=[("s", "long")], now=NOW + timedelta(minutes=10))
            assert 5 < await redis.ttl(name) <= 600
        finally:
            await redis.aclose()
