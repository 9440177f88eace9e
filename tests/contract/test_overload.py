"""When the bounded connection pool is exhausted the API answers 503 + Retry-After, not a 500."""

from __future__ import annotations

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
