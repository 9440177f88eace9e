"""/health tells the truth about the worker: a real `emporium serve` and a real Dramatiq worker; the
worker killed (`kill -9`, no goodbye) and started again. Degraded is still 200: one dead worker must
not take the API servers out of a load balancer."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support.network import free_port
from tests.support.processes import WORKER_READY, ready, running, service_env, start, worker_process
from tests.support.waiting import GENEROUS, eventually

pytestmark = pytest.mark.slow


async def test_health_says_degraded_while_no_worker_consumes_and_ok_when_one_returns(
    database_url, redis_url, tmp_path: Path, unique
) -> None:
    port = free_port()
    env = service_env(database_url, redis_url, f"health-{unique}", EMPORIUM_PORT=str(port),
                      EMPORIUM_REDIS_KEY_PREFIX=f"test:{unique}:")
    api_log = tmp_path / "api.log"
    api = start([sys.executable, "-m", "entrypoints.cli", "serve"], env, api_log)

    async def health() -> dict | None:
        assert api.poll() is None, api_log.read_text(errors="replace")[-3000:]
        try:
            async with httpx.AsyncClient(timeout=5) as client:
                answer = await client.get(f"http://127.0.0.1:{port}/health")
        except httpx.TransportError:
            return None
        assert answer.status_code == 200, answer.text  # degraded or not, this API serves
        return answer.json()

    async def status(wanted: str) -> dict | None:
        body = await health()
        return body if body is not None and body["status"] == wanted else None

    with running(api):
        before = await eventually(lambda: status("degraded"), GENEROUS, what="the API, with no worker yet")
        assert before["degraded"] == ["worker"]
        assert before["worker"]["last_beat_seconds_ago"] is None

        worker = worker_process(env, tmp_path / "worker.log")
        with running(worker):
            await ready(worker, tmp_path / "worker.log", WORKER_READY)
            up = await eventually(lambda: status("ok"), GENEROUS, what="/health to see the worker's heartbeat")
            assert up["degraded"] == []
            assert up["worker"]["ok"]
            assert up["worker"]["queue_depth"] == 0

            os.killpg(worker.pid, signal.SIGKILL)  # the worker and its forks, mid-beat
            worker.wait()
            killed = time.monotonic()
            down = await eventually(lambda: status("degraded"), GENEROUS, what="/health to notice the dead worker")
            print(f"a dead worker showed as degraded after {time.monotonic() - killed:.1f} s")
        assert down["degraded"] == ["worker"]
        assert down["worker"]["last_beat_seconds_ago"] > 0
        assert not down["worker"]["ok"]

        again = worker_process(env, tmp_path / "worker-again.log")
        with running(again):
            await ready(again, tmp_path / "worker-again.log", WORKER_READY)
            started = time.monotonic()
            await eventually(lambda: status("ok"), GENEROUS, what="/health to see the new worker")
            print(f"the new worker showed as ok {time.monotonic() - started:.1f} s after it was ready")
