from __future__ import annotations

from redis.asyncio import BlockingConnectionPool, Redis


def make_redis(url: str, *, max_connections: int = 64, wait_seconds: float = 5.0) -> Redis:
    """An asyncio Redis client that connects lazily; when every connection is busy a caller waits
    for one (bounded) instead of failing, which is what a burst of buyers needs."""
    pool = BlockingConnectionPool.from_url(url, max_connections=max_connections, timeout=wait_seconds)
    return Redis(connection_pool=pool, health_check_interval=30)
