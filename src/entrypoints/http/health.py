"""Liveness and readiness: the process is up vs. its dependencies answer."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get
from sqlalchemy import text


class Check(msgspec.Struct, kw_only=True):
    ok: bool
    detail: str | None = None


class Health(msgspec.Struct, kw_only=True):
    status: str
    postgres: Check
    redis: Check
    broker: Check
    outbox_backlog: int | None


async def _check(coro: Any) -> Check:
    try:
        await asyncio.wait_for(coro, timeout=2.0)
        return Check(ok=True)
    except Exception as error:  # noqa: BLE001 - any failure means "not ready"
        return Check(ok=False, detail=type(error).__name__)


class HealthController(Controller):
    path = "/health"
    tags = ["operations"]

    @get("/live", operation_id="health_live", cache_control=None)
    async def live(self) -> dict[str, str]:
        return {"status": "live"}

    @get("/", operation_id="health_ready")
    async def ready(self, request: Request[Any, Any, Any]) -> Response[Health]:
        container = request.app.state.container

        async def postgres() -> None:
            async with container.engine().connect() as conn:
                await conn.execute(text("SELECT 1"))

        async def redis() -> None:
            await container.redis().ping()

        async def broker() -> None:
            await asyncio.to_thread(container.broker().client.ping)

        pg, rd, br = await asyncio.gather(_check(postgres()), _check(redis()), _check(broker()))
        backlog: int | None = None
        if pg.ok:
            try:
                backlog = await container.outbox_store().backlog()
            except Exception:  # noqa: BLE001
                backlog = None
        healthy = pg.ok and rd.ok and br.ok
        body = Health(
            status="ok" if healthy else "degraded", postgres=pg, redis=rd, broker=br,
            outbox_backlog=backlog,
        )
        return Response(body, status_code=200 if healthy else 503, headers={"Cache-Control": "no-store"})
