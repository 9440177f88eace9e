"""The real application wiring for a benchmark: the composition root's bus over the bench's own
engine (and Redis, and stock gate when given)."""

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
