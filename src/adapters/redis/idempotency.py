"""Idempotency keys in Redis: one round trip to claim, one to finish, none on PostgreSQL.

A key is a hash ``{prefix}idem:{scope}:{key}`` holding the request's fingerprint and the time it was
claimed (or last renewed), then the stored response. One Lua script decides a claim atomically (new,
running, replay, mismatch, or a dead claim taken over once nobody renewed it for the lease); one
renews every claim a process still runs; one stores the response. A running claim's key expires
after ``CLAIM_TTL`` without renewal; a finished one is kept ``KEEP`` (at least the 24 hours clients
are promised). Same rules as the PostgreSQL store, checked by one contract suite.

What Redis does not keep across a restart without persistence is lost: a retry after that runs
again. Every storefront step is safe to run twice (``place`` finds its order through the checkout,
payments are keyed by the order), which is why the hot path can afford it; run Redis with AOF where
a replayed cart add must never add twice.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from redis.asyncio import Redis

from adapters.redis.scripts import Scripts
from application.ports.idempotency import LEASE, Claim, ClaimResult, StoredResponse

CLAIM_TTL_SECONDS = 600
KEEP_SECONDS = 48 * 3600

# KEYS[1] the key; ARGV: fingerprint, now (epoch seconds), lease (seconds), claim ttl (seconds)
_CLAIM = """
local entry = redis.call('HMGET', KEYS[1], 'h', 't', 's', 'hd', 'b')
if not entry[1] then
  redis.call('HSET', KEYS[1], 'h', ARGV[1], 't', ARGV[2])
  redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
  return {'new'}
end
if entry[1] ~= ARGV[1] then return {'mismatch'} end
if entry[3] then return {'replay', entry[3], entry[4], entry[5]} end
if tonumber(entry[2]) < tonumber(ARGV[2]) - tonumber(ARGV[3]) then
  redis.call('HSET', KEYS[1], 't', ARGV[2])
  redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
  return {'new'}
end
return {'running'}
"""
# KEYS: the claims still running here; ARGV: now (epoch seconds), claim ttl (seconds).
_RENEW = """
for _, key in ipairs(KEYS) do
  if redis.call('HEXISTS', key, 't') == 1 and redis.call('HEXISTS', key, 's') == 0 then
    redis.call('HSET', key, 't', ARGV[1])
    redis.call('EXPIRE', key, tonumber(ARGV[2]))
  end
end
return 0
"""
# KEYS[1] the key; ARGV: status, headers (JSON), body, keep (seconds).
_FINISH = """
redis.call('HSET', KEYS[1], 's', ARGV[1], 'hd', ARGV[2], 'b', ARGV[3])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
return 0
"""
# Forget a claim that has no response (a finished key is kept).
_ABANDON = """
if redis.call('HEXISTS', KEYS[1], 's') == 0 then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisIdempotencyStore:
    def __init__(self, redis: Redis, *, prefix: str = "emporium:") -> None:
        self._redis = redis
        scripts = Scripts.of(redis)  # calls of the same moment share a round trip
        self._prefix = f"{prefix}idem:"
        self._claim: Any = scripts.register(_CLAIM)
        self._abandon: Any = scripts.register(_ABANDON)
        self._renew: Any = scripts.register(_RENEW)
        self._finish: Any = scripts.register(_FINISH)

    def _key(self, scope: str, key: str) -> str:
        return f"{self._prefix}{scope}:{key}"

    async def claim(self, *, scope: str, key: str, request_hash: str, now: datetime) -> ClaimResult:
        answer = await self._claim(keys=[self._key(scope, key)],
                                   args=[request_hash, now.timestamp(), LEASE.total_seconds(), CLAIM_TTL_SECONDS])
        kind = _text(answer[0])
        if kind == "replay":
            headers = [(str(k), str(v)) for k, v in json.loads(_text(answer[2]))]
            return ClaimResult(claim=Claim.REPLAY, response=StoredResponse(
                status=int(answer[1]), headers=headers, body=bytes(answer[3])))
        return ClaimResult(claim=Claim(kind))

    async def renew(self, *, claims: Sequence[tuple[str, str]], now: datetime) -> None:
        if claims:
            await self._renew(keys=[self._key(scope, key) for scope, key in claims],
                              args=[now.timestamp(), CLAIM_TTL_SECONDS])

    async def finish(self, *, scope: str, key: str, response: StoredResponse) -> None:
        await self._finish(keys=[self._key(scope, key)],
                           args=[response.status, json.dumps(response.headers), response.body, KEEP_SECONDS])

    async def abandon(self, *, scope: str, key: str) -> None:
        await self._abandon(keys=[self._key(scope, key)])

    async def prune(self, *, before: datetime) -> int:
        """Keys expire by themselves; this removes any claimed before ``before`` now (the daily job's rule)."""
        removed = 0
        cutoff = before.timestamp()
        async for name in self._redis.scan_iter(match=f"{self._prefix}*", count=1000):
            claimed = await self._redis.hget(name, "t")
            if claimed is not None and float(_text(claimed)) < cutoff:
                removed += int(await self._redis.delete(name))
        return removed


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
