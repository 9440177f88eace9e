"""The RateLimiter contract (``RateLimiterContract``): the in-memory fake and Redis count and refuse alike."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from adapters.memory.clock import FakeClock
from adapters.memory.rate_limit import MemoryRateLimiter
from adapters.redis.client import make_redis
from adapters.redis.rate_limit import RedisRateLimiter
from application.ports.rate_limit import Throttle, TokenBucket

POLICY = Throttle(free=3, first_delay_seconds=10, max_delay_seconds=60, window_seconds=600)
# A token every 20 s: Redis keeps a drained bucket for a minute of real time, far longer than a stalled test.
BUCKET = TokenBucket(rate=0.05, burst=3)


class RateLimiterContract:
    """What every RateLimiter does alike. A subclass provides ``limiter``: a limiter of its kind, counting
    nothing yet, whose throttles read the time from the ``clock`` fixture."""

    @pytest.fixture
    def clock(self) -> FakeClock:
        return FakeClock()

    @pytest.fixture
    def limiter(self, clock):
        raise NotImplementedError("a subclass provides the adapter under test")

    async def test_hits_past_the_limit_are_refused_with_a_retry_after(self, limiter) -> None:
        decisions = [await limiter.hit("k", limit=3, window_seconds=60) for _ in range(4)]
        assert [d.allowed for d in decisions] == [True, True, True, False]
        assert decisions[-1].retry_after >= 1
        assert decisions[-1].retry_after <= 60
        assert (await limiter.hit("other", limit=3, window_seconds=60)).allowed

    async def test_check_reads_without_counting(self, limiter) -> None:
        for _ in range(5):
            assert (await limiter.check("k", limit=2, window_seconds=60)).allowed
        await limiter.hit("k", limit=2, window_seconds=60)
        assert (await limiter.check("k", limit=2, window_seconds=60)).allowed
        await limiter.hit("k", limit=2, window_seconds=60)
        refused = await limiter.check("k", limit=2, window_seconds=60)
        assert not refused.allowed
        assert refused.retry_after >= 1

    async def test_concurrent_hits_admit_exactly_the_limit(self, limiter) -> None:
        decisions = await asyncio.gather(*(limiter.hit("k", limit=5, window_seconds=60) for _ in range(50)))
        assert sum(d.allowed for d in decisions) == 5

    async def test_a_throttle_admits_the_free_attempts_then_delays_that_double_up_to_the_cap(
        self, limiter, clock,
    ) -> None:
        assert [(await limiter.throttle("k", policy=POLICY)).allowed for _ in range(3)] == [True] * 3
        waits = []
        for _ in range(5):
            refused = await limiter.throttle("k", policy=POLICY)
            assert not refused.allowed
            waits.append(refused.retry_after)
            clock.advance(timedelta(seconds=refused.retry_after - 1))
            assert not (await limiter.throttle("k", policy=POLICY)).allowed, "a second early"
            clock.advance(timedelta(seconds=1))
            assert (await limiter.throttle("k", policy=POLICY)).allowed
        assert waits == [10, 20, 40, 60, 60]
        assert (await limiter.throttle("other", policy=POLICY)).allowed

    async def test_a_refused_attempt_is_not_counted_and_does_not_extend_the_wait(self, limiter, clock) -> None:
        for _ in range(3):
            await limiter.throttle("k", policy=POLICY)
        for _ in range(20):
            assert (await limiter.throttle("k", policy=POLICY)).retry_after == 10
        clock.advance(timedelta(seconds=10))
        assert (await limiter.throttle("k", policy=POLICY)).allowed
        assert (await limiter.throttle("k", policy=POLICY)).retry_after == 20

    async def test_concurrent_throttled_attempts_admit_exactly_the_free_ones(self, limiter) -> None:
        decisions = await asyncio.gather(*(limiter.throttle("k", policy=POLICY) for _ in range(50)))
        assert sum(d.allowed for d in decisions) == POLICY.free
        assert {d.retry_after for d in decisions if not d.allowed} == {10}

    async def test_a_throttle_forgets_a_key_a_window_after_its_last_attempt(self, limiter, clock) -> None:
        for _ in range(4):
            clock.advance(timedelta(seconds=60))
            await limiter.throttle("k", policy=POLICY)
        clock.advance(timedelta(seconds=POLICY.window_seconds - 1))
        assert (await limiter.throttle("k", policy=POLICY)).allowed  # the 20 s wait is long over…
        assert not (await limiter.throttle("k", policy=POLICY)).allowed  # …but the count was not forgotten
        clock.advance(timedelta(seconds=POLICY.window_seconds))
        assert all([(await limiter.throttle("k", policy=POLICY)).allowed for _ in range(3)])

    async def test_clear_forgets_a_throttled_key(self, limiter) -> None:
        for _ in range(4):
            await limiter.throttle("k", policy=POLICY)
        assert not (await limiter.throttle("k", policy=POLICY)).allowed
        await limiter.clear("k")
        assert all([(await limiter.throttle("k", policy=POLICY)).allowed for _ in range(3)])

    async def test_a_bucket_admits_its_burst_then_refuses_until_a_token_is_back(self, limiter, clock) -> None:
        assert [(await limiter.take({"k": BUCKET})).allowed for _ in range(3)] == [True] * 3
        refused = await limiter.take({"k": BUCKET})
        assert (refused.allowed, refused.retry_after, refused.empty) == (False, 20, ("k",))
        clock.advance(timedelta(seconds=19))
        assert (await limiter.take({"k": BUCKET})).retry_after == 1, "a second early"
        clock.advance(timedelta(seconds=1))
        assert (await limiter.take({"k": BUCKET})).allowed
        assert (await limiter.take({"k": BUCKET})).retry_after == 20
        assert (await limiter.take({"other": BUCKET})).allowed

    async def test_a_bucket_refills_at_its_rate_and_holds_no_more_than_its_burst(self, limiter, clock) -> None:
        for _ in range(3):
            await limiter.take({"k": BUCKET})
        clock.advance(timedelta(seconds=40))
        assert [(await limiter.take({"k": BUCKET})).allowed for _ in range(3)] == [True, True, False]
        clock.advance(timedelta(hours=1))
        assert [(await limiter.take({"k": BUCKET})).allowed for _ in range(4)] == [True, True, True, False]

    async def test_a_refused_take_takes_nothing_and_does_not_extend_the_wait(self, limiter, clock) -> None:
        for _ in range(3):
            await limiter.take({"k": BUCKET})
        for _ in range(20):
            assert (await limiter.take({"k": BUCKET})).retry_after == 20
        clock.advance(timedelta(seconds=20))
        assert (await limiter.take({"k": BUCKET})).allowed

    async def test_a_take_from_several_buckets_is_all_or_nothing(self, limiter) -> None:
        single = TokenBucket(rate=0.05, burst=1)
        fast = TokenBucket(rate=0.1, burst=3)
        assert (await limiter.take({"a": single, "b": fast})).allowed
        for _ in range(10):
            refused = await limiter.take({"a": single, "b": fast})
            assert (refused.allowed, refused.retry_after, refused.empty) == (False, 20, ("a",))
        assert [(await limiter.take({"b": fast})).allowed for _ in range(3)] == [True, True, False], (
            "the refused pairs took nothing from b"
        )
        both = await limiter.take({"a": single, "b": fast})
        assert (both.allowed, both.retry_after, set(both.empty)) == (False, 20, {"a", "b"})  # b's wait is 10 s

    async def test_concurrent_takes_never_hand_out_more_than_the_bucket_holds(self, limiter) -> None:
        decisions = await asyncio.gather(*(limiter.take({"k": BUCKET}) for _ in range(50)))
        assert sum(d.allowed for d in decisions) == BUCKET.burst
        assert {d.retry_after for d in decisions if not d.allowed} == {20}

    async def test_concurrent_takes_sharing_one_bucket_among_others_take_from_it_at_most_its_burst(
        self, limiter,
    ) -> None:
        roomy = TokenBucket(rate=0.05, burst=100)
        decisions = await asyncio.gather(*(
            limiter.take({f"own-{n % 2}": roomy, "shared": BUCKET}) for n in range(50)
        ))
        assert sum(d.allowed for d in decisions) == BUCKET.burst
        assert all(d.empty == ("shared",) for d in decisions if not d.allowed)
        assert sum([(await limiter.take({f"own-{n}": roomy})).allowed for n in (0, 1) for _ in range(100)]) == (
            2 * 100 - BUCKET.burst
        ), "the own buckets lost a token for each admitted take only"

    async def test_clear_forgets_a_bucket(self, limiter) -> None:
        for _ in range(4):
            await limiter.take({"k": BUCKET})
        await limiter.clear("k")
        assert [(await limiter.take({"k": BUCKET})).allowed for _ in range(4)] == [True, True, True, False]


class TestMemoryRateLimiter(RateLimiterContract):
    @pytest.fixture
    def limiter(self, clock) -> MemoryRateLimiter:
        return MemoryRateLimiter(clock.now)


class TestRedisRateLimiter(RateLimiterContract):
    @pytest.fixture
    async def limiter(self, redis_url, unique, clock) -> AsyncIterator[RedisRateLimiter]:
        redis = make_redis(redis_url)
        yield RedisRateLimiter(redis, prefix=f"test:{unique}:rl:", now=clock.now)
        keys = [k async for k in redis.scan_iter(match=f"test:{unique}:*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()

    async def test_a_bucket_is_kept_until_it_is_full_again(self, limiter, redis_url, unique) -> None:
        redis = make_redis(redis_url)
        key = f"test:{unique}:rl:k"
        try:
            for taken in range(1, BUCKET.burst + 1):
                assert (await limiter.take({"k": BUCKET})).allowed
                assert (taken - 1) * BUCKET.interval_ms < await redis.pttl(key) <= taken * BUCKET.interval_ms
            drained = await redis.get(key)
            assert not (await limiter.take({"k": BUCKET})).allowed
            assert await redis.get(key) == drained, "a refusal writes nothing"
        finally:
            await redis.aclose()
