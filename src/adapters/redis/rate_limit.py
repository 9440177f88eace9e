"""Fixed-window rate limiting: one atomic INCR (+EXPIRE on the first hit) per attempt."""

from __future__ import annotations

from redis.asyncio import Redis

from application.ports.rate_limit import RateDecision

_HIT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return {count, redis.call('TTL', KEYS[1])}
"""


class RedisRateLimiter:
    def __init__(self, redis: Redis, *, prefix: str = "emporium:rl:") -> None:
        self._redis = redis
        self._prefix = prefix
        self._script = redis.register_script(_HIT)

    async def hit(self, key: str, *, limit: int, window_seconds: int) -> RateDecision:
        count, ttl = await self._script(keys=[self._prefix + key], args=[window_seconds])
        if int(count) <= limit:
            return RateDecision(True, 0)
        return RateDecision(False, max(int(ttl), 1))

    async def check(self, key: str, *, limit: int, window_seconds: int) -> RateDecision:
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.get(self._prefix + key)
            pipe.ttl(self._prefix + key)
            count, ttl = await pipe.execute()
        if count is None or int(count) < limit:
            return RateDecision(True, 0)
        return RateDecision(False, max(int(ttl), 1))
