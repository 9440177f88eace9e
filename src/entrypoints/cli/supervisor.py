"""``emporium run``: the whole product on one machine, kept running, stopped cleanly and quickly by Ctrl-C.

The API, worker and relay each run in a process group of their own (Ctrl-C at the terminal
reaches this supervisor only). A child that dies is started again, with a log line, after a pause
that doubles while it keeps dying young (``Restarts``); nothing is lost meanwhile: its work waits in
the outbox, the queues or the client's retry. On stop every group gets SIGTERM at once, stragglers
SIGKILL after ``STOP_GRACE`` seconds, then the embedded servers (if any) are stopped, also together.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from entrypoints.cli.edge import varnishd
from entrypoints.cli.processes import wait_http, worker_command
from entrypoints.cli.services import ServiceError, services
from entrypoints.settings import get_settings, refuse_insecure

STOP_GRACE = 2.0  # seconds the children get to finish in-flight work before SIGKILL
HEALTH_TIMEOUT = 60.0


class Restarts:
    """How long to wait before starting a dead child again: not at all the first time, then a pause
    that doubles (from ``first`` up to ``longest``) each time it dies again within ``settled`` seconds
    of its start, so a child that cannot start (a bad setting, a port taken) is not respawned in a
    tight loop. A child that ran ``settled`` seconds or more starts a new count."""

    def __init__(self, first: float = 0.5, longest: float = 30.0, settled: float = 60.0) -> None:
        self.first, self.longest, self.settled = first, longest, settled
        self._young_deaths: dict[str, int] = {}

    def pause_after(self, name: str, lived: float) -> float:
        """The pause before starting ``name`` again, which died after ``lived`` seconds."""
        if lived >= self.settled:
            self._young_deaths[name] = 0
        before = self._young_deaths.get(name, 0)
        self._young_deaths[name] = before + 1
        return 0.0 if before == 0 else min(self.longest, self.first * 2 ** (before - 1))


class StepFailed(RuntimeError):
    """A start-up step (migrate, seed, rebuild) failed; it already printed why."""


def _spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    # Own process group: Ctrl-C reaches us only, and each child is stopped with its forks.
    return subprocess.Popen(args, env=env, start_new_session=True)


def _signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def _group_alive(proc: subprocess.Popen[bytes]) -> bool:
    try:
        os.killpg(proc.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_children(children: dict[str, subprocess.Popen[bytes]], grace: float = STOP_GRACE) -> dict[str, float]:
    """SIGTERM every child at once; SIGKILL what is left of their groups after ``grace``; reap them.

    The signal goes to the child alone, not its group: Dramatiq's main process forwards it to its
    forks, and a fork that receives a second SIGTERM abandons its graceful shutdown.
    """
    began = time.monotonic()
    for child in children.values():
        with contextlib.suppress(ProcessLookupError):
            child.send_signal(signal.SIGTERM)
    took: dict[str, float] = {}
    deadline = began + grace
    while len(took) < len(children) and time.monotonic() < deadline:
        for name, child in children.items():
            if name not in took and child.poll() is not None and not _group_alive(child):
                took[name] = time.monotonic() - began
        time.sleep(0.02)
    for name, child in children.items():
        _signal_group(child, signal.SIGKILL)  # stragglers, and forks left in the group
        child.wait()
        took.setdefault(name, -1.0)  # killed
    return took


def run_all(project_dir: Path, *, with_seed: bool = True, with_edge: bool = False) -> int:
    settings = get_settings()
    refuse_insecure(settings)  # before anything starts
    if settings.environment == "development":
        print("development mode (EMPORIUM_ENVIRONMENT=development): the built-in secret key signs cookies and "
              "/metrics is open; never expose this to the internet", flush=True)
    stopping = False

    def request_stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    started = time.monotonic()
    data_dir = project_dir / ".emporium"
    children: dict[str, subprocess.Popen[bytes]] = {}
    try:
        if with_edge:
            varnishd()  # not installed: say so (with the install command) before anything starts
        with services(settings.database_url, settings.redis_url, data_dir) as found:
            if found.embedded:
                print(f"started embedded {', '.join(found.embedded)} under {data_dir} "
                      f"({time.monotonic() - started:.1f} s)", flush=True)
            env = dict(os.environ, DATABASE_URL=found.database_url, REDIS_URL=found.redis_url)
            emporium = [sys.executable, "-m", "entrypoints.cli"]

            def step(*args: str) -> None:
                # The step's own process group: Ctrl-C during start-up stops it through us.
                proc = _spawn([*emporium, *args], env)
                while proc.poll() is None:
                    if stopping:
                        stop_children({args[0]: proc})
                        return
                    time.sleep(0.05)
                if proc.returncode != 0 and not stopping:
                    raise StepFailed(f"`emporium {' '.join(args)}` failed (exit {proc.returncode}); stopping")

            for args in (("migrate",), ("seed",) if with_seed else (), ("projections", "rebuild")):
                if args and not stopping:
                    step(*args)
            api_env = env
            if with_edge:
                # The worker purges the edge; the API takes the shopper's address from the edge's
                # X-Forwarded-For (per-address limits), which it trusts from the loopback only.
                edge_url = f"http://127.0.0.1:{settings.edge_port}"
                env = dict(env, EMPORIUM_CDN_PURGE_URL=edge_url, EMPORIUM_CDN_PURGE_API="varnish",
                           EMPORIUM_CDN_PURGE_TOKEN=settings.cdn_purge_token or secrets.token_urlsafe(24))
                api_env = dict(env, EMPORIUM_TRUSTED_PROXIES=settings.trusted_proxies or "127.0.0.1")
            commands = {
                "api": ([*emporium, "serve"], api_env),
                # Idle consumers wake every 250 ms (Dramatiq's default: 1 s) so a stop is quick.
                "worker": (worker_command(), dict(env, dramatiq_worker_timeout="250")),
                "relay": ([*emporium, "relay"], env),
                **({"edge": ([*emporium, "edge"], env)} if with_edge else {}),
            }
            born: dict[str, float] = {}
            if not stopping:
                found.settle()
                for name, (args, child_env) in commands.items():
                    children[name], born[name] = _spawn(args, child_env), time.monotonic()
                base = f"http://{settings.host}:{settings.port}"
                if wait_http(f"{base}/health", timeout=HEALTH_TIMEOUT, give_up=lambda: stopping):
                    print(
                        f"\nEmporium is up ({time.monotonic() - started:.1f} s).\n"
                        f"  API:     {base}/store/products/trail-runner\n"
                        f"  OpenAPI: {base}/schema  (JSON: {base}/schema/openapi.json)\n"
                        f"  Health:  {base}/health\n"
                        + (f"  Edge:    http://127.0.0.1:{settings.edge_port}/store/products/trail-runner "
                           "(Varnish, deploy/varnish/emporium.vcl)\n" if with_edge else "")
                        + "Press Ctrl-C to stop.\n",
                        flush=True,
                    )
                elif not stopping:
                    print(f"the API did not become healthy within {HEALTH_TIMEOUT:.0f} s; see the logs above",
                          flush=True)
            restarts, due = Restarts(), {}
            while not stopping:
                for name, child in children.items():
                    if name not in due and child.poll() is not None:
                        _signal_group(child, signal.SIGKILL)  # what it forked dies with it
                        pause = restarts.pause_after(name, time.monotonic() - born[name])
                        print(f"{name} exited with {child.returncode}; starting it again"
                              + (f" in {pause:.1f} s" if pause else ""), flush=True)
                        due[name] = time.monotonic() + pause
                for name, at in list(due.items()):
                    if time.monotonic() >= at:
                        args, child_env = commands[name]
                        children[name], born[name] = _spawn(args, child_env), time.monotonic()
                        del due[name]
                time.sleep(0.1)
            stop_began = time.monotonic()
            took = stop_children(children)
            servers_began = time.monotonic()
            found.stop()
            parts = [f"{name} {'killed' if seconds < 0 else f'{seconds:.1f} s'}" for name, seconds in took.items()]
            if found.embedded:
                parts.append(f"embedded servers {time.monotonic() - servers_began:.1f} s")
            print(f"stopped in {time.monotonic() - stop_began:.1f} s ({', '.join(parts)})", flush=True)
    except (StepFailed, ServiceError) as error:
        stop_children(children)
        print(f"emporium run: {error}", file=sys.stderr, flush=True)
        return 1
    return 0
