"""Rate limiting in Redis, each decision one atomic script call.

Fixed windows: INCR (+EXPIRE on the first hit). Throttles: one hash per key (attempts, last counted
attempt, not-before, in milliseconds of the adapter's clock); the script checks, counts and sets the
next delay in one step, so concurrent attempts cannot all slip past the check before any is counted.
Token buckets: one string per key, the moment (ms) the bucket is full again; the script checks every
bucket of a call before it writes any, so a call takes from all of them or from none.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from redis.asyncio import Redis

from adapters.redis.scripts import Scripts
from application.ports.rate_limit import RateDecision, Throttle, TokenBucket

_HIT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return {count, redis.call('TTL', KEYS[1])}
"""

# ARGV: now, free, first delay, max delay, window (ms). Mirrors Throttle.delay_after.
_THROTTLE = """
local now = tonumber(ARGV[1])
local state = redis.call('HMGET', KEYS[1], 'n', 'last', 'nb')
local n = tonumber(state[1]) or 0
local last = tonumber(state[2]) or now
local nb = tonumber(state[3]) or 0
local window = tonumber(ARGV[5])
if now - last >= window and now >= nb then n = 0 end
if now < nb then return {0, nb - now} end
n = n + 1
local delay = 0
local free = tonumber(ARGV[2])
if n >= free then delay = math.min(tonumber(ARGV[3]) * 2 ^ math.min(n - free, 32), tonumber(ARGV[4])) end
redis.call('HSET', KEYS[1], 'n', n, 'last', now, 'nb', now + delay)
redis.call('PEXPIRE', KEYS[1], window + delay)
return {1, 0}
"""

# KEYS: the buckets; ARGV: now, then each bucket's interval (ms a token) and burst. A bucket is kept as the
# moment it is full again (none: full now) and holds a token while that is at most burst - 1 intervals away.
# Taking a token moves the moment one interval on; the key expires at it.
_TAKE = """
local now = tonumber(ARGV[1])
local full_at = {}
local empty = {}
local wait = 0
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[2 * i])
  local at = math.max(tonumber(redis.call('GET', key)) or now, now)
  local short = at - now - (tonumber(ARGV[2 * i + 1]) - 1) * interval
  if short > 0 then
    empty[#empty + 1] = i
    wait = math.max(wait, short)
  end
  full_at[i] = at + interval
end
if #empty > 0 then return {0, wait, unpack(empty)} end
for i, key in ipairs(KEYS) do
  redis.call('SET', key, full_at[i], 'PX', full_at[i] - now)
end
return {1, 0}
"""


def _utc_now() -> datetime:
    return datetime.now(UTC)


class RedisRateLimiter:
    def __init__(self, redis: Redis, *, prefix: str = "emporium:rl:", now: Callable[[], datetime] = _utc_now) -> None:
        self._redis = redis
        scripts = Scripts.of(redis)  # calls of the same moment share a round trip
        self._prefix = prefix
        self._now = now
        self._script = scripts.register(_HIT)
        self._throttle = scripts.register(_THROTTLE)
        self._take = scripts.register(_TAKE)

    def _now_ms(self) -> int:
        return int(self._now().timestamp() * 1000)

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

    async def throttle(self, key: str, *, policy: Throttle) -> RateDecision:
        allowed, wait_ms = await self._throttle(keys=[self._prefix + key], args=[
            self._now_ms(), policy.free, policy.first_delay_seconds * 1000, policy.max_delay_seconds * 1000,
            policy.window_seconds * 1000,
        ])
        if int(allowed):
            return RateDecision(True, 0)
        return RateDecision(False, max(math.ceil(int(wait_ms) / 1000), 1))

    async def take(self, buckets: Mapping[str, TokenBucket]) -> RateDecision:
        if not buckets:
            return RateDecision(True, 0)
        keys = list(buckets)
        args = [self._now_ms()]
        for bucket in buckets.values():
            args += [bucket.interval_ms, bucket.burst]
        allowed, wait_ms, *empty = await self._take(keys=[self._prefix + key for key in keys], args=args)
        if int(allowed):
            return RateDecision(True, 0)
        return RateDecision(False, max(math.ceil(int(wait_ms) / 1000), 1), tuple(keys[int(i) - 1] for i in empty))

    async def clear(self, key: str) -> None:
        await self._redis.delete(self._prefix + key)
