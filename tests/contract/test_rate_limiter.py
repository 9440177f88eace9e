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
from application.ports.rate_limit import Throttle

POLICY = Throttle(free=3, first_delay_seconds=10, max_delay_seconds=60, window_seconds=600)


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
