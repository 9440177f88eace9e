"""When the bounded connection pool is exhausted the API answers 503 + Retry-After, not a 500."""

from __future__ import annotations

import contextlib

import httpx
import psycopg
from sqlalchemy import text

from adapters.postgres.engine import normalise_url
from adapters.postgres.outbox import libpq_dsn
from entrypoints.http.app import create_app
from tests.support.http_app import make_container, settings_for


async def test_an_exhausted_pool_is_a_clean_503_with_retry_after(database_url, redis_url) -> None:
    container = make_container(
        settings_for(database_url, redis_url, db_pool_size=1, db_max_overflow=0, db_pool_timeout=0.2)
    )
    app = create_app(container, configure_logs=False)
    app.state.container = container
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        held = await container.engine().connect()  # another request holds the only connection
        try:
            response = await client.get("/store/products/anything")
        finally:
            await held.close()
        assert response.status_code == 503
        assert response.headers["retry-after"] == "1"
        assert response.json()["type"].endswith("/overloaded")
        assert (await client.get("/store/products/anything")).status_code == 404  # recovers at once
    await container.engine().dispose()


async def test_a_dead_connection_fails_one_request_with_503_and_the_pool_recovers(database_url, redis_url) -> None:
    """No ping on every checkout: a connection the server dropped costs its one request a 503 + Retry-After
    (retried by the client), and every later request gets a fresh connection."""
    container = make_container(settings_for(database_url, redis_url, db_pool_size=2, db_max_overflow=0))
    app = create_app(container, configure_logs=False)
    app.state.container = container
    engine = container.engine()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assert (await client.get("/store/products/missing-0")).status_code == 404  # a pooled connection now
        async with engine.connect() as conn:
            pooled = await conn.scalar(text("SELECT pg_backend_pid()"))
        with psycopg.connect(libpq_dsn(normalise_url(database_url)), autocommit=True) as killer:
            killer.execute("SELECT pg_terminate_backend(%s, 5000)", (pooled,))  # waits until it is gone
        # LIFO: the next request gets the connection the server killed.
        response = await client.get("/store/products/missing-1")  # (404s are micro-cached: a new slug each)
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"] == "1"
        statuses = [(await client.get(f"/store/products/missing-{n}")).status_code for n in range(2, 5)]
        assert statuses == [404, 404, 404]
    await engine.dispose()


async def test_a_dead_connection_under_a_hand_written_statement_is_unavailable_too(database_url) -> None:
    """The storefront's hot statements go through psycopg directly (the pipeline), past SQLAlchemy's
    disconnect handling: a connection the server dropped there is the same 503 + Retry-After."""
    from adapters.memory.clock import SequentialIds
    from adapters.postgres.engine import make_engine
    from adapters.postgres.unit_of_work import PostgresUnitOfWork
    from application.ports.errors import Unavailable

    engine = make_engine(database_url, pool_size=1, max_overflow=0)
    raised: list[BaseException] = []
    try:
        with contextlib.suppress(Unavailable):  # leaving the unit of work on the dead connection: the same
            async with PostgresUnitOfWork(engine, SequentialIds()) as tx:
                pid = await tx.connection.scalar(text("SELECT pg_backend_pid()"))
                with psycopg.connect(libpq_dsn(normalise_url(database_url)), autocommit=True) as killer:
                    killer.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))
                try:
                    await tx.checkouts.get("no-such-checkout")
                except Exception as error:
                    raised.append(error)
                    raise
        assert [type(e).__name__ for e in raised] == ["Unavailable"]
        assert getattr(raised[0], "retry_after", None) == 1
        async with PostgresUnitOfWork(engine, SequentialIds()) as tx:  # the pool gives a live one again
            assert await tx.connection.scalar(text("SELECT 1")) == 1
    finally:
        await engine.dispose()


async def test_redis_out_of_reach_is_a_503_with_retry_after_not_a_500(database_url) -> None:
    """Idempotency keys, sessions and the stock gate live in Redis: with Redis away a keyed call is
    refused as unavailable, which a client retries with the same key."""
    container = make_container(settings_for(database_url, "redis://127.0.0.1:1/0"))
    app = create_app(container, configure_logs=False)
    app.state.container = container
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.post(
            "/store/cart/lines", json={"sku": "ANY", "quantity": 1},
            headers={"Idempotency-Key": "redis-away-1", "Origin": "http://test"},
        )
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "1"
    assert response.headers["content-type"].startswith("application/problem+json")
    await container.engine().dispose()
