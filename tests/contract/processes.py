"""Start the real relay and Dramatiq worker as separate processes for end-to-end tests."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def service_env(database_url: str, redis_url: str, namespace: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url, REDIS_URL=redis_url, EMPORIUM_BROKER_NAMESPACE=namespace,
        EMPORIUM_WORKER_HEARTBEAT_TIMEOUT_MS="1500", EMPORIUM_BROKER_MAINTENANCE_CHANCE="1000000",
        EMPORIUM_RELAY_POLL_INTERVAL="0.5", EMPORIUM_LOG_JSON="false", EMPORIUM_RECONCILE_EVERY_SECONDS="1",
        PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
    )
    env.update(extra)
    return env


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    handle = log.open("ab")
    return subprocess.Popen(args, env=env, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)


def relay_process(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return start([sys.executable, "-m", "entrypoints.cli", "relay"], env, log)


def worker_process(
    env: dict[str, str], log: Path, module: str = "entrypoints.worker.app", *, schedule: bool = False
) -> subprocess.Popen[bytes]:
    args = [sys.executable, "-m", "dramatiq", module, "--processes", "1", "--threads", "2", "--skip-logging"]
    if schedule:
        args += ["--fork-function", "entrypoints.worker.scheduler:run_scheduler"]
    return start(args, env, log)


def stop(proc: subprocess.Popen[bytes], timeout: float = 10) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # forks left behind


@contextlib.contextmanager
def running(*procs: subprocess.Popen[bytes]) -> Iterator[None]:
    try:
        yield
    finally:
        for proc in procs:
            stop(proc)


async def eventually(check: Callable[[], object], timeout: float = 30.0, interval: float = 0.2) -> object:
    import asyncio
    import inspect

    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        last = check()
        if inspect.isawaitable(last):
            last = await last
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s (last value {last!r})")
