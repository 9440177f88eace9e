"""When the bounded connection pool is exhausted the API answers 503 + Retry-After, not a 500."""

from __future__ import annotations

import httpx

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
