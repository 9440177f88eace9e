"""RateLimiter contract: the in-memory fake and Redis count and refuse alike."""

from __future__ import annotations

import pytest

from adapters.memory.clock import FakeClock
from adapters.memory.rate_limit import MemoryRateLimiter
from adapters.redis.client import make_redis
from adapters.redis.rate_limit import RedisRateLimiter


@pytest.fixture(params=["memory", "redis"])
async def limiter(request, redis_url, unique):
    if request.param == "memory":
        yield MemoryRateLimiter(FakeClock().now)
        return
    redis = make_redis(redis_url)
    yield RedisRateLimiter(redis, prefix=f"test:{unique}:rl:")
    keys = [k async for k in redis.scan_iter(match=f"test:{unique}:*")]
    if keys:
        await redis.delete(*keys)
    await redis.aclose()


async def test_hits_past_the_limit_are_refused_with_a_retry_after(limiter) -> None:
    decisions = [await limiter.hit("k", limit=3, window_seconds=60) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert decisions[-1].retry_after >= 1
    assert decisions[-1].retry_after <= 60
    assert (await limiter.hit("other", limit=3, window_seconds=60)).allowed


async def test_check_reads_without_counting(limiter) -> None:
    for _ in range(5):
        assert (await limiter.check("k", limit=2, window_seconds=60)).allowed
    await limiter.hit("k", limit=2, window_seconds=60)
    assert (await limiter.check("k", limit=2, window_seconds=60)).allowed
    await limiter.hit("k", limit=2, window_seconds=60)
    refused = await limiter.check("k", limit=2, window_seconds=60)
    assert not refused.allowed
    assert refused.retry_after >= 1
