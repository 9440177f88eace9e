"""Liveness and readiness: the process is up vs. it can serve, and what is degraded meanwhile.

``/health`` answers 503 only for what stops this process from serving: its database or its Redis. A
broker out of reach or no worker consuming (no heartbeat for ``worker_stale_seconds``) leaves
requests served — orders are taken, their events wait in the outbox or the queues — so it answers
200 with ``"status": "degraded"`` and names the part in ``degraded``: one dead worker must not take
every API server out of a load balancer.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get
from sqlalchemy import text

from adapters.dramatiq.heartbeat import last_beat, queue_depth


class Check(msgspec.Struct, kw_only=True):
    ok: bool
    detail: str | None = None


class WorkerCheck(msgspec.Struct, kw_only=True):
    ok: bool
    last_beat_seconds_ago: float | None  # None: no worker beat for a day (or ever)
    queue_depth: int | None  # messages waiting for a worker


class Health(msgspec.Struct, kw_only=True):
    status: str  # ok | degraded (serving; see degraded) | unavailable (503)
    degraded: list[str]
    postgres: Check
    redis: Check
    broker: Check
    worker: WorkerCheck
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
        worker = await _worker(container) if rd.ok else WorkerCheck(ok=False, last_beat_seconds_ago=None,
                                                                    queue_depth=None)
        serving = pg.ok and rd.ok
        degraded = [name for name, check in (("broker", br), ("worker", worker)) if not check.ok]
        body = Health(
            status="unavailable" if not serving else "degraded" if degraded else "ok", degraded=degraded,
            postgres=pg, redis=rd, broker=br, worker=worker, outbox_backlog=backlog,
        )
        return Response(body, status_code=200 if serving else 503, headers={"Cache-Control": "no-store"})


async def _worker(container: Any) -> WorkerCheck:
    settings, redis = container.settings(), container.redis()
    try:
        beat, depth = await asyncio.wait_for(
            asyncio.gather(last_beat(redis, settings.redis_key_prefix), queue_depth(redis, settings.broker_namespace)),
            timeout=2.0,
        )
    except Exception:  # noqa: BLE001 - Redis failed between the checks: nothing known of the worker
        return WorkerCheck(ok=False, last_beat_seconds_ago=None, queue_depth=None)
    ago = None if beat is None else max(0.0, round(time.time() - beat, 1))
    return WorkerCheck(ok=ago is not None and ago <= settings.worker_stale_seconds, last_beat_seconds_ago=ago,
                       queue_depth=depth)
