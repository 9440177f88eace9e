"""Customer sessions in Redis: the cookie carries a random token; Redis keys use only its hash."""

from __future__ import annotations

import hashlib
import secrets

from redis.asyncio import Redis


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class RedisSessionStore:
    def __init__(self, redis: Redis, *, prefix: str = "emporium:session:") -> None:
        self._redis = redis
        self._prefix = prefix

    def _key(self, digest: str) -> str:
        return f"{self._prefix}{digest}"

    def _index(self, customer_id: str) -> str:
        return f"{self._prefix}customer:{customer_id}"

    async def create(self, customer_id: str, *, ttl_seconds: int) -> str:
        token = secrets.token_urlsafe(32)
        digest = _digest(token)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(self._key(digest), customer_id, ex=ttl_seconds)
            pipe.sadd(self._index(customer_id), digest)
            pipe.expire(self._index(customer_id), ttl_seconds)
            await pipe.execute()
        return token

    async def customer_of(self, token: str, *, ttl_seconds: int) -> str | None:
        raw = await self._redis.getex(self._key(_digest(token)), ex=ttl_seconds)
        if raw is None:
            return None
        return raw.decode() if isinstance(raw, bytes) else str(raw)

    async def revoke(self, token: str) -> None:
        digest = _digest(token)
        customer_id = await self._redis.getdel(self._key(digest))
        if customer_id is not None:
            cid = customer_id.decode() if isinstance(customer_id, bytes) else str(customer_id)
            await self._redis.srem(self._index(cid), digest)

    async def revoke_all(self, customer_id: str) -> None:
        digests = await self._redis.smembers(self._index(customer_id))
        keys = [self._key(d.decode() if isinstance(d, bytes) else d) for d in digests]
        await self._redis.delete(*keys, self._index(customer_id))
