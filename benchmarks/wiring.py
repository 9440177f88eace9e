"""The real application wiring for a benchmark: the composition root's bus over the bench's own
engine (and Redis, and stock gate when given), and the clean-up of a run's Redis keys."""

from __future__ import annotations

from typing import Any

from dependency_injector import providers

from application.messaging.bus import MessageBus
from entrypoints.container import Container


def bench_bus(engine: Any, *, redis: Any = None, gate: Any = None) -> MessageBus:
    container = Container()
    container.engine.override(providers.Object(engine))
    if redis is not None:
        container.redis.override(providers.Object(redis))
    if gate is not None:
        container.stock_gate.override(providers.Object(gate))
    return container.bus()


def forget_redis_keys(prefix: str) -> None:
    """A run's carts, sessions, idempotency keys, gate counters and catalog version: gone with it."""
    import redis

    from entrypoints.settings import get_settings

    client = redis.Redis.from_url(get_settings().redis_url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start : start + 1000])
    finally:
        client.close()
