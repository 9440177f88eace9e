"""The RateLimiter contract (``RateLimiterContract``): the in-memory fake and Redis count and refuse alike."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from adapters.memory.clock import FakeClock
from adapters.memory.rate_limit import MemoryRateLimiter
from adapters.redis.client import make_redis
from adapters.redis.rate_limit import RedisRateLimiter


class RateLimiterContract:
    """What every RateLimiter does alike. A subclass provides ``limiter``: a limiter of its kind, counting
    nothing yet."""

    @pytest.fixture
    def limiter(self):
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


class TestMemoryRateLimiter(RateLimiterContract):
    @pytest.fixture
    def limiter(self) -> MemoryRateLimiter:
        return MemoryRateLimiter(FakeClock().now)


class TestRedisRateLimiter(RateLimiterContract):
    @pytest.fixture
    async def limiter(self, redis_url, unique) -> AsyncIterator[RedisRateLimiter]:
        redis = make_redis(redis_url)
        yield RedisRateLimiter(redis, prefix=f"test:{unique}:rl:")
        keys = [k async for k in redis.scan_iter(match=f"test:{unique}:*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()
