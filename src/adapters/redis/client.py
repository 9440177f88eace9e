from __future__ import annotations

from redis.asyncio import Redis


def make_redis(url: str) -> Redis:
    """An asyncio Redis client; it connects lazily on first command."""
    return Redis.from_url(url, decode_responses=False, health_check_interval=30)
