"""Real processes for tests: the relay and the Dramatiq worker for end-to-end tests, the `emporium` CLI."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg

from tests.support.waiting import GENEROUS, eventually, report

ROOT = Path(__file__).resolve().parents[2]

# What each process logs once it is serving (the relay's own line; Dramatiq's, per worker process).
RELAY_READY = "outbox relay started"
WORKER_READY = "Worker process is ready for action"


def service_env(database_url: str, redis_url: str, namespace: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url, REDIS_URL=redis_url, EMPORIUM_BROKER_NAMESPACE=namespace,
        # A worker whose heartbeat is older than this is taken for dead and its unacked messages are
        # handed to others. A starved but live worker must not be: that redelivers work it is still
        # doing (a second webhook POST, say). Only the crash test shortens it, to recover quickly.
        EMPORIUM_WORKER_HEARTBEAT_TIMEOUT_MS=str(int(GENEROUS * 1000)),
        EMPORIUM_BROKER_MAINTENANCE_CHANCE="1000000",
        EMPORIUM_RELAY_POLL_INTERVAL="0.5", EMPORIUM_LOG_JSON="false", EMPORIUM_RECONCILE_EVERY_SECONDS="1",
        # Most tests' clients share 127.0.0.1 and retry and poll as fast as they like: no limits on storefront
        # changes (tests/contract/test_http_abuse.py tests them; tests/e2e/test_front_door.py runs the defaults).
        EMPORIUM_STORE_WRITE_RATE_PER_IP="0", EMPORIUM_STORE_WRITE_RATE_PER_SESSION="0",
        PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
    )
    env.update(extra)
    return env


def emporium(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """One `emporium` command, run to its end (the CLI on the test database, with ``env`` from ``service_env``)."""
    return subprocess.run(
        [sys.executable, "-m", "entrypoints.cli", *args], env=env, cwd=ROOT, capture_output=True, text=True,
        timeout=120, check=False,
    )


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


def log_tail(log: Path, chars: int = 3000) -> str:
    with contextlib.suppress(OSError):
        return log.read_text(errors="replace")[-chars:]
    return ""


async def ready(proc: subprocess.Popen[bytes], log: Path, marker: str, timeout: float = GENEROUS) -> None:
    """Wait until ``proc`` logs ``marker`` (it is serving); fail at once, with its log, if it exits first."""

    def said_it() -> bool:
        if marker in log_tail(log, chars=1 << 20):
            return True
        if proc.poll() is not None:
            raise AssertionError(f"{log.name}: the process exited with {proc.returncode} before {marker!r}")
        return False

    try:
        await eventually(said_it, timeout, interval=0.1, what=f"{log.name} to log {marker!r}")
    except AssertionError as error:
        raise AssertionError(f"{error}\n--- {log}:\n{log_tail(log)}") from None


def skip_outbox_backlog(database_url: str) -> int:
    """Mark every unpublished outbox row published, so the relay a test starts carries only that
    test's events. Tests share one database and most leave rows behind; carrying that backlog (its
    size depends on which tests ran before) through a worker first would only make the wait longer."""
    with psycopg.connect(database_url.replace("postgresql+psycopg://", "postgresql://", 1), autocommit=True) as conn:
        return conn.execute("UPDATE outbox SET published_at = now() WHERE published_at IS NULL").rowcount


def stop(proc: subprocess.Popen[bytes], timeout: float = GENEROUS) -> None:
    """SIGTERM to the process alone, a generous wait for it to finish, then SIGKILL to what is left.

    Not SIGTERM to the whole process group: Dramatiq's main process passes SIGTERM on to its worker
    processes, and a worker that gets a second one (the group's, then its parent's) abandons its
    graceful shutdown half way and hangs until killed."""
    started = time.monotonic()
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            print(f"pid {proc.pid} still running {timeout:.0f}s after SIGTERM: killing it", flush=True)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        report(f"pid {proc.pid} ({' '.join(map(str, proc.args[2:4]))}) to stop: exit {proc.returncode}", started)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # forks left behind


@contextlib.contextmanager
def running(*procs: subprocess.Popen[bytes]) -> Iterator[None]:
    try:
        yield
    finally:
        for proc in procs:
            stop(proc)
