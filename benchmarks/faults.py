"""A fault in the middle of a flash sale over HTTP: `emporium bench flash-sale --http --fault …`.

    .venv/bin/emporium bench flash-sale --http --fault kill-api
    .venv/bin/emporium bench flash-sale --http --fault all --buyers 300 --units 30   # every fault, briefly

The shop runs as `flash-sale --http` runs it (`emporium serve --workers N`, the worker, the relay, on a
fresh database), watched the way `emporium run` watches its children: a process that dies is started
again (``Restarts``). For each fault a product of its own goes on sale; once one buyer in twenty is
through (the first sold-out answers: most winners are mid-way), the fault strikes:

- ``kill-api``: SIGKILL to one of uvicorn's worker processes (uvicorn starts a new one);
- ``kill-worker``: SIGKILL to the Dramatiq worker and its forks (the watcher starts it again; what the
  dead one held is redelivered once its broker heartbeat is old);
- ``kill-relay``: SIGKILL to the outbox relay (started again; it publishes what is left);
- ``restart-postgres-connection``: every connection the API holds is terminated by PostgreSQL
  (``pg_terminate_backend``), as a failover or a restarted pooler would;
- ``restart-redis``: the shop's Redis (a server of the bench's own, without persistence) is killed and
  started again empty: Idempotency-Keys, the stock gate's counters and the broker's queued messages are
  gone (PostgreSQL decides holds alone and refills the gate; the relay publishes again what no consumer
  processed).

Buyers keep retrying with the same Idempotency-Key (dropped connections, 5xx, 409 in-use). Afterwards
the database is audited (``flash_sale_http._audit``) plus what a fault could strand: every buyer ended
with an order or a sold-out answer, no reservation active past its TTL once the reconciler has run,
the outbox drained, the availability read model equal to the stock rows.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg

from benchmarks import flash_sale_http as sale

FAULTS = ("kill-api", "kill-worker", "kill-relay", "restart-postgres-connection", "restart-redis")
# What the shop is told for these runs: a dead worker's messages are handed on after 3 s, the broker
# checks for dead workers on every call, the reconciler runs every 2 s (production: 60 s), and the relay
# publishes again what no consumer processed 5 s after it was published (production: 2 min).
FAULT_ENV = {
    "EMPORIUM_WORKER_HEARTBEAT_TIMEOUT_MS": "3000",
    "EMPORIUM_BROKER_MAINTENANCE_CHANCE": "1000000",
    "EMPORIUM_RECONCILE_EVERY_SECONDS": "2",
    "EMPORIUM_RELAY_SWEEP_SECONDS": "1",
    "EMPORIUM_RELAY_SWEEP_GRACE_SECONDS": "5",
}


class OwnRedis:
    """A Redis server of the bench's own on a spare port, without persistence, that can be restarted."""

    def __init__(self, folder: Path) -> None:
        from entrypoints.cli.services import Address, EmbeddedRedis

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.folder = folder
        self.binary = str(EmbeddedRedis(folder / "redis", Address("127.0.0.1", self.port)).binary)
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        from entrypoints.cli.services import reachable

        self.process = subprocess.Popen(
            [self.binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no",
             "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while not reachable("127.0.0.1", self.port, timeout=0.5):
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError("the bench's Redis did not start")
            time.sleep(0.05)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def restart(self) -> float:
        began = time.monotonic()
        self.kill()
        self.start()
        return time.monotonic() - began


class Watched:
    """The shop's three processes, each started again when it dies (as `emporium run` does)."""

    def __init__(self, commands: dict[str, list[str]], env: dict[str, str]) -> None:
        from entrypoints.cli.supervisor import Restarts

        self.commands, self.env = commands, env
        self.restarts = Restarts()
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.born: dict[str, float] = {}
        self.started_again: list[str] = []
        self._stop = threading.Event()
        for name in commands:
            self._start(name)
        self._thread = threading.Thread(target=self._watch, name="watch", daemon=True)
        self._thread.start()

    def _start(self, name: str) -> None:
        self.processes[name] = subprocess.Popen(
            self.commands[name], env=self.env, cwd=sale.ROOT, start_new_session=True
        )
        self.born[name] = time.monotonic()

    def _watch(self) -> None:
        while not self._stop.wait(0.1):
            for name, process in list(self.processes.items()):
                if process.poll() is not None and not self._stop.is_set():
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(process.pid, signal.SIGKILL)  # what it forked goes with it
                    pause = self.restarts.pause_after(name, time.monotonic() - self.born[name])
                    print(f"\n  {name} exited with {process.returncode}; starting it again", file=sys.stderr)
                    if self._stop.wait(pause):
                        return
                    self._start(name)
                    self.started_again.append(name)

    def pids(self) -> list[int]:
        return [p.pid for p in self.processes.values()]

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        sale.stop_stack(list(self.processes.values()))


def _api_workers(pid: int) -> list[int]:
    """uvicorn's worker processes under its supervisor ``pid`` (not multiprocessing's resource tracker)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                command = (entry / "cmdline").read_bytes()
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                if parent == pid and b"spawn_main" in command and b"resource_tracker" not in command:
                    found.append(int(entry.name))
    return sorted(found)


def strike(fault: str, shop: Watched, dsn: str, redis: OwnRedis) -> str:
    """Inject ``fault``; say what was done."""
    if fault == "kill-api":
        workers = _api_workers(shop.processes["api"].pid)
        if not workers:
            raise RuntimeError("uvicorn has no worker process to kill (is --workers 1 running in-process?)")
        os.kill(workers[0], signal.SIGKILL)
        return f"SIGKILL to API worker process {workers[0]}"
    if fault in ("kill-worker", "kill-relay"):
        process = shop.processes[fault.removeprefix("kill-")]
        os.killpg(process.pid, signal.SIGKILL)
        return f"SIGKILL to the {fault.removeprefix('kill-')} (process group {process.pid})"
    if fault == "restart-postgres-connection":
        with psycopg.connect(dsn, autocommit=True) as conn:
            ended = conn.execute(
                """SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity
                   WHERE datname = current_database() AND application_name = 'emporium-api'"""
            ).fetchone()[0]
        return f"{ended} API connections terminated by PostgreSQL"
    if fault == "restart-redis":
        return f"Redis killed and started again, empty, in {redis.restart():.1f} s"
    raise ValueError(fault)


def _expired_holds(dsn: str, sku: str) -> int:
    with psycopg.connect(dsn, autocommit=True) as conn:
        return int(
            conn.execute(
                """SELECT count(DISTINCT r.id) FROM reservations r JOIN reservation_lines l ON l.reservation_id = r.id
               WHERE l.sku = %s AND r.status = 'active' AND r.expires_at < now()""",
                (sku,),
            ).fetchone()[0]
        )


def run_faults(
    faults: list[str], workers: int, units: int, buyers: int, concurrency: int, generators: int, progress: bool
) -> list[dict[str, Any]]:
    from adapters.postgres.migrate import ensure_database, upgrade
    from entrypoints.cli.processes import wait_http

    run = uuid.uuid4().hex[:8]
    database_url = sale._database_url(workers).replace(f"emporium_bench_http_{workers}", "emporium_bench_faults")
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", sale.PORT), timeout=1):
        raise RuntimeError(f"port {sale.PORT} is in use: is another benchmark running?")
    ensure_database(database_url, recreate=True)
    upgrade(database_url)
    dsn = sale._dsn(database_url)
    solo = f"SOLO-{run}"
    folder = Path(tempfile.mkdtemp(prefix="emporium-faults-"))
    redis = OwnRedis(folder)
    # Every process of the run uses it: the shop's (their environment is this one's) and this one (the
    # seed, the audit).
    os.environ["REDIS_URL"] = redis.url
    from entrypoints.settings import get_settings

    get_settings.cache_clear()
    asyncio.run(sale._seed_one(database_url, run, solo, 50))
    env = dict(
        os.environ,
        DATABASE_URL=database_url,
        EMPORIUM_PORT=str(sale.PORT),
        EMPORIUM_LOG_LEVEL="WARNING",
        EMPORIUM_ENVIRONMENT="development",
        EMPORIUM_REDIS_KEY_PREFIX=f"bench:{run}:",
        EMPORIUM_BROKER_NAMESPACE=f"bench-{run}",
        PYTHONPATH=os.pathsep.join([str(sale.ROOT / "src"), str(sale.ROOT)]),
        **FAULT_ENV,
    )
    cli = [sys.executable, "-m", "entrypoints.cli"]
    shop = Watched(
        {"api": [*cli, "serve", "--workers", str(workers)], "worker": [*cli, "worker"], "relay": [*cli, "relay"]}, env
    )
    host, results = "127.0.0.1", []
    try:
        if not wait_http(f"http://{host}:{sale.PORT}/health/live", timeout=60):
            raise RuntimeError("the server did not start")
        sale._wait_caught_up(dsn, (solo,), timeout=120)
        method = sale._shipping_method(host, sale.PORT, run, solo)
        sale._solo(host, sale.PORT, run, solo, method, 2)  # every API worker warm
        for fault in faults:
            sku = f"FAULT-{fault}-{run}"
            asyncio.run(sale._seed_one(database_url, run, sku, units))
            sale._wait_caught_up(dsn, (sku,), timeout=120)
            results.append(
                _one(fault, shop, dsn, host, run, sku, method, units, buyers, concurrency, generators, progress,
                     redis)
            )
    finally:
        shop.stop()
        redis.kill()
        shutil.rmtree(folder, ignore_errors=True)
    return results


def _one(
    fault: str,
    shop: Watched,
    dsn: str,
    host: str,
    run: str,
    sku: str,
    method: str,
    units: int,
    buyers: int,
    concurrency: int,
    generators: int,
    progress: bool,
    redis: OwnRedis,
) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    done, ready, results, go = context.Value("i", 0), context.Value("i", 0), context.Queue(), context.Event()
    numbers = list(range(buyers))
    share = max(1, concurrency // generators)
    tag = f"{run}{fault}"
    processes = [
        context.Process(
            target=sale._generate,
            args=(host, sale.PORT, tag, sku, method, numbers[g::generators], share, done, results, ready, go),
        )
        for g in range(generators)
    ]
    for process in processes:
        process.start()
    while ready.value < generators:
        time.sleep(0.05)
    restarted_before = len(shop.started_again)
    started = time.perf_counter()
    go.set()
    parts: list[dict[str, Any]] = []
    struck, what = None, ""
    while len(parts) < generators:
        if struck is None and done.value >= max(1, buyers // 20):
            struck, what = time.perf_counter() - started, strike(fault, shop, dsn, redis)
        with contextlib.suppress(queue.Empty):
            parts.append(results.get(timeout=0.2))
        if len(parts) < generators and all(p.exitcode is not None for p in processes) and results.empty():
            raise RuntimeError("a load generator died before it reported (its traceback is above)")
        if progress:
            sale._bar(done.value, buyers, time.perf_counter() - started)
    wall = time.perf_counter() - started
    for process in processes:
        process.join()
    if progress:
        print(file=sys.stderr)
    sale._wait_settled(dsn, sku, timeout=120)
    # The reconciler runs every 2 s: a hold a fault stranded past its TTL is released within a few.
    deadline = time.monotonic() + 10
    while _expired_holds(dsn, sku) and time.monotonic() < deadline:
        time.sleep(0.5)
    outcomes = [o for part in parts for o in part["outcomes"]]
    told_yes = {o["order_id"] for o in outcomes if o["order_id"]}
    audit = sale._audit(dsn, sku, units, told_yes)
    unanswered = [o for o in outcomes if not o["order_id"] and not o["sold_out_at"]]
    return {
        "fault": fault,
        "what": what,
        "struck_after_s": struck,
        "buyers": buyers,
        "units": units,
        "seconds": wall,
        "buyers_per_s": buyers / wall,
        "told_yes": len(told_yes),
        "unanswered": len(unanswered),
        "errors": sorted({o["error"][:90] for o in unanswered if o["error"]}),
        "retries": sum(o["retries"] for o in outcomes),
        "retried": {
            why: sum(o["retried"].get(why, 0) for o in outcomes)
            for why in sorted({w for o in outcomes for w in o["retried"]})
        },
        "started_again": shop.started_again[restarted_before:],
        "holds_past_ttl": _expired_holds(dsn, sku),
        **audit,
    }


def holds(f: dict[str, Any]) -> bool:
    return (
        f["unanswered"] == 0
        and f["oversold"] == 0
        and f["ghost"] == 0
        and f["lost"] == 0
        and f["holds_past_ttl"] == 0
        and f["ledger_equals_balance"]
        and f["outbox_backlog"] == 0
        and f["availability_read_model"] == f["availability_from_stock"]
    )


def _print(f: dict[str, Any]) -> None:
    print(
        f"fault {f['fault']}: {f['what']}, {f['struck_after_s']:.1f} s into a sale of {f['buyers']} buyers "
        f"for {f['units']} units"
    )
    rows = [
        ("buyers finished per second", f"{f['buyers_per_s']:.0f}  (sale over in {f['seconds']:.1f} s)"),
        ("started again", ", ".join(f["started_again"]) or "-"),
        (
            "buyers with neither order nor sold-out",
            f"{f['unanswered']} {json.dumps(f['errors']) if f['errors'] else ''}",
        ),
        ("retries", f"{f['retries']} {json.dumps(f['retried'])}" if f["retried"] else "0"),
        ("orders / units sold", f"{f['orders']} / {f['units_sold']}  (told yes: {f['told_yes']})"),
        ("oversold / ghost / lost", f"{f['oversold']} / {f['ghost']} / {f['lost']}"),
        ("holds active past their TTL", str(f["holds_past_ttl"])),
        ("holds active within their TTL", str(f["reservations_active"])),
        ("ledger = balance", str(f["ledger_equals_balance"])),
        ("outbox backlog", str(f["outbox_backlog"])),
        ("availability read model = stock", f"{f['availability_read_model']} = {f['availability_from_stock']}"),
        ("every invariant holds", str(holds(f))),
    ]
    for label, value in rows:
        print(f"  {label:<40} {value}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="emporium bench flash-sale --http --fault")
    parser.add_argument("--fault", required=True, help=f"one of {', '.join(FAULTS)}, a comma-separated list, or all")
    parser.add_argument("--workers", type=int, default=2, help="API worker processes (at least 2: one is killed)")
    parser.add_argument("--units", type=int, default=200)
    parser.add_argument("--buyers", type=int, default=1500)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--generators", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    faults = list(FAULTS) if args.fault == "all" else args.fault.split(",")
    unknown = [f for f in faults if f not in FAULTS]
    if unknown:
        parser.error(f"unknown fault {', '.join(unknown)}; choose from {', '.join(FAULTS)} or all")
    # Stopped from outside (a timeout, the CI runner): stop the shop too, as Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    runs = run_faults(
        faults, args.workers, args.units, args.buyers, args.concurrency, args.generators, progress=not args.json
    )
    if args.json:
        print(json.dumps(runs, indent=2))
    else:
        for figures in runs:
            _print(figures)
    return 0 if all(holds(r) for r in runs) else 1
