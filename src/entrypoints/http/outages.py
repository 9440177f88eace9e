"""A backing service out of reach is 503 + Retry-After, never a 500: the errors of the libraries that
reach them, mapped where the app is put together (the problem map itself names no I/O library)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from application.ports.errors import Unavailable
from entrypoints.http.problems import error_handler


def redis_away_handler(request: Request[Any, Any, Any], error: Exception) -> Response[dict[str, Any]]:
    """Redis out of reach (idempotency keys, sessions, the stock gate live there): the request is refused
    as unavailable — 503 + Retry-After, retried by a client with the same key."""
    return error_handler(request, Unavailable(f"Redis is out of reach ({error}); retry", retry_after=1))


OUTAGE_HANDLERS: dict[type[Exception] | int, Any] = {
    RedisConnectionError: redis_away_handler,
    RedisTimeoutError: redis_away_handler,
}
