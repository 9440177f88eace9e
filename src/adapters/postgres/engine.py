from __future__ import annotations

from typing import Any

import msgspec
import psycopg
from psycopg.pq import TransactionStatus
from psycopg.types.json import set_json_loads
from sqlalchemy import event, exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool
from sqlalchemy.pool.base import ConnectionPoolEntry

from application.ports.errors import Unavailable


class BoundedPool(AsyncAdaptedQueuePool):
    """SQLAlchemy's asyncio queue pool, whose exhaustion is the application's ``Unavailable``.

    Every checkout goes through ``_do_get`` (units of work, carts, search, idempotency, the relay), so this is
    the one place a pool timeout becomes an error the application and the HTTP edge know (→ 503)."""

    def _do_get(self) -> ConnectionPoolEntry:
        try:
            return super()._do_get()
        except exc.TimeoutError as error:
            raise Unavailable(f"database pool exhausted: {error}", retry_after=1) from error


def normalise_url(url: str) -> str:
    """Accept ``postgresql://`` / ``postgres://`` URLs and use the psycopg 3 driver."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def make_engine(
    url: str, *, pool_size: int = 10, max_overflow: int = 5, pool_timeout: float = 5.0, pool_recycle: int = 1800,
) -> AsyncEngine:
    """A bounded pool: when it is exhausted callers wait ``pool_timeout`` then fail fast with ``Unavailable`` (→ 503).

    Last in, first out: a burst reuses the connections that just worked — warm server backends
    and prepared statements — and the rest can idle. No ping on every checkout (a round trip per
    unit of work): connections are recycled after ``pool_recycle`` seconds, and a connection found
    dead (the server restarted, a proxy cut it) fails its one request with ``Unavailable`` (→ 503 and
    Retry-After, which a client retries with the same Idempotency-Key) while the pool replaces every
    connection older than the failure."""
    engine = create_async_engine(
        normalise_url(url),
        poolclass=BoundedPool,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=pool_timeout,
        pool_pre_ping=False,
        pool_recycle=pool_recycle,
        pool_use_lifo=True,
        # An error message never carries the statement's values (password hashes, tokens, addresses):
        # they would reach the logs with it.
        hide_parameters=True,
        json_serializer=_json_dumps,
        json_deserializer=msgspec.json.decode,
    )
    event.listen(engine.sync_engine, "handle_error", _lost_connection)
    # JSONB read by hand-written statements (the checkout, the cart, the pipeline's queries) comes
    # back through psycopg's own loader: msgspec's too, instead of the json module's.
    set_json_loads(msgspec.json.decode)
    return engine


def _lost_connection(context: Any) -> BaseException | None:
    """A dead connection is the database being briefly unreachable, not a bug: retry shortly."""
    if context.is_disconnect:
        return Unavailable("the database connection was lost; retry", retry_after=1)
    return None


def _json_dumps(value: object) -> str:
    # msgspec encodes JSONB payloads (outbox, documents) several times faster than json.dumps.
    return msgspec.json.encode(value).decode()


def sync_url(url: str) -> str:
    return normalise_url(url)


async def autocommit_driver(conn: AsyncConnection) -> psycopg.AsyncConnection[Any]:
    """The psycopg connection under ``conn``, put in autocommit mode: each read is a transaction of its
    own until a ``Pipeline`` opens one. Set on the driver directly — SQLAlchemy's isolation-level
    option costs a greenlet switch and its bookkeeping at both ends of every use. ``give_back``
    undoes it before the connection returns to the pool."""
    driver: psycopg.AsyncConnection[Any] = conn.sync_connection.connection.driver_connection  # type: ignore[union-attr,assignment]
    await driver.set_autocommit(True)
    return driver


async def end_transaction(conn: AsyncConnection, driver: psycopg.AsyncConnection[Any]) -> None:
    """Roll back whatever is open: SQLAlchemy's transaction (a Core statement began one) or the
    driver's. Through SQLAlchemy whenever the driver is not idle, so that a connection found dead
    there is invalidated — and the pool's older connections with it (the engine's disconnect
    handling)."""
    if conn.in_transaction() or driver.info.transaction_status != TransactionStatus.IDLE:
        if not conn.in_transaction():
            await conn.begin()
        await conn.rollback()


async def give_back(conn: AsyncConnection, driver: psycopg.AsyncConnection[Any]) -> None:
    """Before ``conn`` returns to the pool: no transaction left open, and transactional again for
    everyone else; a connection that cannot be set back is never handed out again."""
    await end_transaction(conn, driver)
    try:
        await driver.set_autocommit(False)
    except psycopg.Error:
        await conn.invalidate()
