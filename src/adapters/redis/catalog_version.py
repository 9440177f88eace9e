"""The shared catalog version in Redis: one counter every serving process reads before it uses what it kept."""

from __future__ import annotations

import logging

from redis.asyncio import Redis
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


class RedisCatalogVersion:
    def __init__(self, redis: Redis, *, key: str = "emporium:catalog-version") -> None:
        self._redis = redis
        self._key = key

    async def current(self) -> int | None:
        try:
            raw = await self._redis.get(self._key)
        except RedisError:
            return None  # unknown: the snapshot keeps nothing and reads the database
        return int(raw) if raw is not None else 0

    async def bump(self) -> None:
        try:
            await self._redis.incr(self._key)
        except RedisError:
            # The change is committed and stays so; processes keep the old catalog at most the
            # snapshot's max age (or until the next bump).
            logger.exception("could not bump the catalog version")
