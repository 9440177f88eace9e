"""The flash sale through the real storefront: `emporium bench flash-sale --http`.

    .venv/bin/emporium bench flash-sale --http --workers 2 --units 500 --buyers 5000 --concurrency 128
    .venv/bin/emporium bench flash-sale --http --workers 1,2,4 --json     # how throughput scales
    .venv/bin/emporium bench flash-sale --http --fault kill-api           # a fault mid-sale (faults.py)
    .venv/bin/emporium bench flash-sale --http --waiting-room --bots 0.2  # a drop with bots (drop_sale.py)

For each worker count: a fresh benchmark database (migrated), one product of ``--units`` units and a
second one for the uncontended buyers; then `emporium serve --workers N`, `emporium worker` and
`emporium relay` as real processes on a spare port. A load generator in processes of its own
(``--generators``, asyncio, one keep-alive connection and cookie jar per buyer, each buyer from a
loopback address of its own so per-address limits apply as in production) first walks three buyers
one after another (the uncontended flow and its server time), then lets ``--buyers`` buyers race
for the units, ``--concurrency`` at a time, through the seven steps a storefront takes: add to cart,
start checkout, contact, address, shipping, payment, place. Every unsafe call carries an
Idempotency-Key; a dropped connection, a 5xx, a 429 or a 409 ``idempotency-key-in-use`` is retried
with the same key (counted as a retry).

Afterwards the database is audited: orders and units sold, oversold, ghost orders (an order exists
that its buyer was never told about), lost orders (a buyer was told yes, no order exists),
reservations still active, the stock ledger against the balance, the outbox backlog, and the
availability read model against the stock rows.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import queue
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parents[1]
PORT = 8093
PROVIDER = "manual"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


# --- the load generator (its own processes) ---------------------------------------------------------


def _generate(
    host: str,
    port: int,
    run: str,
    sku: str,
    method: str,
    numbers: list[int],
    concurrency: int,
    done: Any,
    results: Any,
    ready: Any,
    go: Any,
) -> None:
    """One generator process: its share of the buyers, ``concurrency`` at a time, from the start signal."""
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    from benchmarks.buyer import Buyer, source_address

    async def race() -> list[dict[str, Any]]:
        queue = iter(numbers)
        outcomes: list[dict[str, Any]] = []

        async def client() -> None:
            for number in queue:
                outcome = await Buyer(number, host, port, source_address(number), run).shop(sku, method, PROVIDER)
                outcomes.append(outcome.__dict__)
                with done.get_lock():
                    done.value += 1

        await asyncio.gather(*(client() for _ in range(concurrency)))
        return outcomes

    with ready.get_lock():
        ready.value += 1
    go.wait()
    started = time.perf_counter()
    cpu = time.process_time()
    outcomes = asyncio.run(race())
    results.put(
        {"outcomes": outcomes, "cpu_seconds": time.process_time() - cpu, "wall_seconds": time.perf_counter() - started}
    )


def _solo(host: str, port: int, run: str, sku: str, method: str, count: int) -> list[dict[str, Any]]:
    """Buyers one after another on an idle shop: the uncontended flow."""
    from benchmarks.buyer import Buyer, source_address

    async def walk() -> list[dict[str, Any]]:
        outcomes = []
        for i in range(count):
            number = 900_000 + i
            outcomes.append(
                (
                    await Buyer(number, host, port, source_address(number), f"{run}solo").shop(sku, method, PROVIDER)
                ).__dict__
            )
        return outcomes

    return asyncio.run(walk())


# --- the shop under test ----------------------------------------------------------------------------


def _database_url(workers: int) -> str:
    from sqlalchemy.engine import make_url

    from benchmarks.flash_sale import bench_database_url

    return (
        make_url(bench_database_url())
        .set(database=f"emporium_bench_http_{workers}")
        .render_as_string(hide_password=False)
    )


async def _seed(database_url: str, run: str, units: int) -> tuple[str, str]:
    """A warehouse, the sale's product with ``units`` units and a second one for uncontended buyers."""
    skus = (f"FLASH-{run}", f"SOLO-{run}")
    for sku, quantity in zip(skus, (units, 50), strict=True):
        await _seed_one(database_url, run, sku, quantity)
    return skus


async def _seed_one(database_url: str, run: str, sku: str, quantity: int) -> None:
    from adapters.postgres.engine import make_engine
    from adapters.redis.client import make_redis
    from application.catalog.commands import CreateProduct
    from application.inventory import commands as c
    from benchmarks.wiring import bench_bus
    from entrypoints.settings import get_settings

    engine, redis = make_engine(database_url, pool_size=2), make_redis(get_settings().redis_url)
    bus = bench_bus(engine, redis=redis)
    with psycopg.connect(_dsn(database_url)) as conn:
        known = conn.execute("SELECT 1 FROM inventory_locations WHERE id = %s", (f"warehouse-{run}",)).fetchone()
    if known is None:
        await bus.handle(c.AddLocation(id=f"warehouse-{run}", name="Warehouse"))
    await bus.handle(CreateProduct(name=f"Sneaker {sku}", sku=sku, price_amount=12900, currency="EUR"))
    await bus.handle(c.ReceiveStock(sku=sku, location_id=f"warehouse-{run}", quantity=quantity, actor="bench"))
    await redis.aclose()
    await engine.dispose()


def _dsn(database_url: str) -> str:
    from adapters.postgres.engine import normalise_url
    from adapters.postgres.outbox import libpq_dsn

    return libpq_dsn(normalise_url(database_url))


def _wait_caught_up(dsn: str, skus: tuple[str, ...], timeout: float) -> float:
    """Until the outbox is published and the worker has projected every SKU's availability."""
    started = time.monotonic()
    with psycopg.connect(dsn, autocommit=True) as conn:
        while time.monotonic() - started < timeout:
            backlog = conn.execute("SELECT count(*) FROM outbox WHERE published_at IS NULL").fetchone()[0]
            projected = conn.execute(
                "SELECT count(*) FROM read.availability WHERE sku = ANY(%s)", (list(skus),)
            ).fetchone()[0]
            if backlog == 0 and projected == len(skus):
                return time.monotonic() - started
            time.sleep(0.2)
    raise RuntimeError(f"projections did not catch up in {timeout:.0f} s")


def _shipping_method(host: str, port: int, run: str, sku: str) -> str:
    """What a storefront shows for a cart to Berlin: the first shipping option (no stock is held)."""
    from benchmarks.buyer import BERLIN, Buyer, source_address

    async def probe() -> str:
        buyer = Buyer(999_999, host, port, source_address(999_999), f"{run}probe")
        assert (await buyer.call("add", "POST", "/store/cart/lines", {"sku": sku, "quantity": 1})).status == 201
        checkout = (await buyer.call("checkout", "POST", "/store/checkout")).json()["id"]
        await buyer.call("contact", "PUT", f"/store/checkout/{checkout}/contact", {"email": "probe@example.com"})
        await buyer.call("address", "PUT", f"/store/checkout/{checkout}/address", {"shipping": BERLIN})
        options = (await buyer.call("options", "GET", f"/store/checkout/{checkout}/shipping-options")).json()
        await buyer.connection.close()
        return str(options[0]["id"])

    return asyncio.run(probe())


def _process_group_cpu(groups: list[int]) -> float:
    """CPU seconds (user + system) of every live process in these process groups."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) in groups:  # pgrp
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _services_cpu() -> float:
    """CPU seconds of PostgreSQL's and Redis's processes (the bench's database is the only busy one)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() not in ("postgres", "redis-server"):
                continue
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _die_with_the_bench() -> None:
    """In a started process, before it runs: SIGTERM when the bench dies (killed by a test's timeout, say),
    so no server is left holding the port for the next run (Linux's PR_SET_PDEATHSIG; elsewhere nothing)."""
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1: PR_SET_PDEATHSIG


def _start_stack(database_url: str, workers: int, run: str, port: int = PORT) -> list[subprocess.Popen[bytes]]:
    env = dict(
        os.environ,
        DATABASE_URL=database_url,
        EMPORIUM_PORT=str(port),
        EMPORIUM_LOG_LEVEL="WARNING",
        EMPORIUM_ENVIRONMENT="development",
        EMPORIUM_REDIS_KEY_PREFIX=f"bench:{run}:",
        EMPORIUM_BROKER_NAMESPACE=f"bench-{run}",
        PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
    )
    cli = [sys.executable, "-m", "entrypoints.cli"]
    return [
        subprocess.Popen(command, env=env, cwd=ROOT, start_new_session=True, preexec_fn=_die_with_the_bench)
        for command in ([*cli, "serve", "--workers", str(workers)], [*cli, "worker"], [*cli, "relay"])
    ]


def stop_stack(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


# --- the audit --------------------------------------------------------------------------------------


def _audit(dsn: str, sku: str, units: int, told_yes: set[str]) -> dict[str, Any]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute(
            """SELECT o.id, sum((line->>'quantity')::int) FROM orders o,
                      jsonb_array_elements(o.data->'lines') AS line
               WHERE line->>'sku' = %s AND o.status <> 'cancelled' GROUP BY o.id""",
            (sku,),
        ).fetchall()
        in_db = {order_id for order_id, _ in rows}
        sold = sum(quantity for _, quantity in rows)
        active = conn.execute(
            """SELECT count(DISTINCT r.id) FROM reservations r JOIN reservation_lines l ON l.reservation_id = r.id
               WHERE l.sku = %s AND r.status = 'active'""",
            (sku,),
        ).fetchone()[0]
        balance = conn.execute(
            "SELECT sum(on_hand), sum(reserved), sum(committed) FROM stock_items WHERE sku = %s", (sku,)
        ).fetchone()
        ledger = conn.execute(
            """SELECT sum(on_hand_delta), sum(reserved_delta), sum(committed_delta) FROM stock_movements
               WHERE sku = %s""",
            (sku,),
        ).fetchone()
        backlog = conn.execute("SELECT count(*) FROM outbox WHERE published_at IS NULL").fetchone()[0]
        projected = conn.execute("SELECT available FROM read.availability WHERE sku = %s", (sku,)).fetchone()
    on_hand, reserved, committed = (int(v) for v in balance)
    return {
        "orders": len(in_db),
        "units_sold": sold,
        "oversold": max(0, sold - units),
        "ghost": len(in_db - told_yes),
        "lost": len(told_yes - in_db),
        "reservations_active": active,
        "ledger_equals_balance": tuple(int(v) for v in ledger) == (on_hand, reserved, committed),
        "outbox_backlog": backlog,
        "availability_read_model": None if projected is None else int(projected[0]),
        "availability_from_stock": on_hand - reserved - committed,
    }


def _wait_settled(dsn: str, sku: str, timeout: float) -> None:
    """The outbox published and the availability projection equal to the stock rows (or the timeout)."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(dsn, autocommit=True) as conn:
        while time.monotonic() < deadline:
            backlog = conn.execute("SELECT count(*) FROM outbox WHERE published_at IS NULL").fetchone()[0]
            row = conn.execute(
                """SELECT a.available, (SELECT sum(on_hand - reserved - committed) FROM stock_items WHERE sku = %s)
                   FROM read.availability a WHERE a.sku = %s""",
                (sku, sku),
            ).fetchone()
            if backlog == 0 and row is not None and row[0] == row[1]:
                return
            time.sleep(0.25)


# --- one run ----------------------------------------------------------------------------------------


def run_sale(
    workers: int, units: int, buyers: int, concurrency: int, generators: int, progress: bool = True
) -> dict[str, Any]:
    from adapters.postgres.migrate import ensure_database, upgrade
    from entrypoints.cli.processes import wait_http

    run = uuid.uuid4().hex[:8]
    database_url = _database_url(workers)
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", PORT), timeout=1):
        # Another run (or a server) holds the port: recreating its database under it would spoil both.
        raise RuntimeError(f"port {PORT} is in use: is another benchmark running?")
    ensure_database(database_url, recreate=True)  # figures must not drift with what earlier runs left
    upgrade(database_url)
    dsn = _dsn(database_url)
    flash, solo = asyncio.run(_seed(database_url, run, units))
    stack = _start_stack(database_url, workers, run)
    host = "127.0.0.1"
    try:
        if not wait_http(
            f"http://{host}:{PORT}/health/live", timeout=60, give_up=lambda: any(p.poll() is not None for p in stack)
        ):
            raise RuntimeError("the server did not start")
        _wait_caught_up(dsn, (flash, solo), timeout=120)
        method = _shipping_method(host, PORT, run, solo)
        _solo(host, PORT, run, solo, method, 2)  # warm every worker's caches and pools first
        uncontended = _solo(host, PORT, f"{run}u", solo, method, 3)

        context = multiprocessing.get_context("spawn")
        done, ready, results, go = context.Value("i", 0), context.Value("i", 0), context.Queue(), context.Event()
        numbers = list(range(buyers))
        share = max(1, concurrency // generators)
        processes = [
            context.Process(
                target=_generate,
                args=(host, PORT, run, flash, method, numbers[g::generators], share, done, results, ready, go),
            )
            for g in range(generators)
        ]
        for process in processes:
            process.start()
        while ready.value < generators:  # imports done in every generator: the sale starts for all at once
            time.sleep(0.05)
        server_cpu, services_cpu = _process_group_cpu([p.pid for p in stack]), _services_cpu()
        started = time.perf_counter()
        go.set()
        parts = []
        while len(parts) < generators:
            with contextlib.suppress(queue.Empty):  # draw the bar and wait on
                parts.append(results.get(timeout=0.5))
            if len(parts) < generators and all(p.exitcode is not None for p in processes) and results.empty():
                raise RuntimeError("a load generator died before it reported (its traceback is above)")
            if progress:
                _bar(done.value, buyers, time.perf_counter() - started)
        wall = time.perf_counter() - started
        server_cpu = _process_group_cpu([p.pid for p in stack]) - server_cpu
        services_cpu = _services_cpu() - services_cpu
        for process in processes:
            process.join()
        if progress:
            print(file=sys.stderr)
        _wait_settled(dsn, flash, timeout=60)
        outcomes = [o for part in parts for o in part["outcomes"]]
        told_yes = {o["order_id"] for o in outcomes if o["order_id"]}
        audit = _audit(dsn, flash, units, told_yes)
    finally:
        stop_stack(stack)
        from benchmarks.wiring import forget_redis_keys

        forget_redis_keys(f"bench:{run}:")
    return _figures(
        workers, units, buyers, concurrency, generators, wall, parts, outcomes, uncontended, audit, server_cpu,
        services_cpu,
    )


def _by_step(flows: Any) -> dict[str, list[float]]:
    steps: dict[str, list[float]] = {}
    for flow in flows:
        for step, seconds in flow:
            steps.setdefault(step, []).append(seconds)
    return steps


def _bar(done: int, total: int, seconds: float) -> None:
    width = 40
    filled = int(width * done / total) if total else width
    print(
        f"\r  [{'#' * filled}{'.' * (width - filled)}] {done}/{total} buyers  {seconds:5.1f} s",
        end="",
        file=sys.stderr,
        flush=True,
    )


def _figures(
    workers: int,
    units: int,
    buyers: int,
    concurrency: int,
    generators: int,
    wall: float,
    parts: list[dict[str, Any]],
    outcomes: list[dict[str, Any]],
    uncontended: list[dict[str, Any]],
    audit: dict[str, Any],
    server_cpu: float,
    services_cpu: float,
) -> dict[str, Any]:
    flows = [o["ended"] - o["started"] for o in outcomes]
    won = [o for o in outcomes if o["order_id"]]
    errors: dict[str, int] = {}
    for o in outcomes:
        if o["error"]:
            key = o["error"].split(" b'")[0][:90]
            errors[key] = errors.get(key, 0) + 1
    sold_out_at: dict[str, int] = {}
    for o in outcomes:
        if o["sold_out_at"]:
            sold_out_at[o["sold_out_at"]] = sold_out_at.get(o["sold_out_at"], 0) + 1
    solo_flows = [sum(seconds for _, seconds in o["steps"]) for o in uncontended if o["order_id"]]
    solo_server = [o["server_ms"] for o in uncontended if o["order_id"]]
    generator_cpu = sum(p["cpu_seconds"] for p in parts)
    cores = os.cpu_count() or 1
    return {
        "workers": workers,
        "units": units,
        "buyers": buyers,
        "concurrency": concurrency,
        "cpus": cores,
        "seconds": wall,
        "buyers_per_s": buyers / wall,
        "requests": sum(o["requests"] for o in outcomes),
        "requests_per_s": sum(o["requests"] for o in outcomes) / wall,
        "flow_p50_ms": statistics.median(flows) * 1000 if flows else 0.0,
        "flow_p99_ms": _percentile(flows, 0.99) * 1000,
        "winner_flow_p99_ms": _percentile([o["ended"] - o["started"] for o in won], 0.99) * 1000,
        "told_yes": len(won),
        "sold_out_answers": sold_out_at,
        "errors": errors,
        "retries": sum(o["retries"] for o in outcomes),
        "retried": {why: sum(o["retried"].get(why, 0) for o in outcomes)
                    for why in sorted({w for o in outcomes for w in o["retried"]})},
        "uncontended_flow_ms": statistics.median(solo_flows) * 1000 if solo_flows else None,
        "winner_step_ms": {  # each step of the winners' flows: p50, p99
            step: (statistics.median(seconds) * 1000, _percentile(seconds, 0.99) * 1000)
            for step, seconds in _by_step(o["steps"] for o in won).items()
        },
        # Of a winner's flow during the sale, how much the server spent on its answers (Server-Timing,
        # queueing inside the API process included); the rest is the network, the client and the queue
        # before the API process took the request.
        "winner_server_share": (
            sum(o["server_ms"] for o in won) / 1000 / sum(o["ended"] - o["started"] for o in won) if won else 0.0
        ),
        "uncontended_server_ms": statistics.median(solo_server) if solo_server else None,
        "generator_cpu_share": generator_cpu / (wall * cores),
        "server_cpu_share": server_cpu / (wall * cores),
        "services_cpu_share": services_cpu / (wall * cores),
        # What the sale cost, whatever else ran on the machine: the shop's, PostgreSQL's and Redis's CPU.
        "cpu_ms_per_buyer": (server_cpu + services_cpu) * 1000 / buyers,
        **audit,
    }


def _print(f: dict[str, Any]) -> None:
    print(
        f"flash sale over HTTP: {f['buyers']} buyers, {f['units']} units, {f['concurrency']} clients, "
        f"`emporium serve --workers {f['workers']}` + worker + relay, {f['cpus']} CPUs"
    )
    rows = [
        ("buyers finished per second", f"{f['buyers_per_s']:.0f}  (sale over in {f['seconds']:.1f} s)"),
        ("requests per second (all steps)", f"{f['requests_per_s']:.0f}  ({f['requests']} requests)"),
        (
            "buyer flow p50 / p99",
            f"{f['flow_p50_ms']:.0f} ms / {f['flow_p99_ms']:.0f} ms  (winners' p99 {f['winner_flow_p99_ms']:.0f} ms)",
        ),
        (
            "uncontended buyer, 7 requests",
            "n/a" if f["uncontended_flow_ms"] is None else f"{f['uncontended_flow_ms']:.1f} ms client-side (loopback), "
            f"{f['uncontended_server_ms']:.1f} ms server time (Server-Timing)",
        ),
        ("winners' flow spent in the server", f"{f['winner_server_share']:.0%} (Server-Timing)"),
        (
            "winners' steps, p50 / p99",
            ", ".join(f"{step} {p50:.0f} / {p99:.0f} ms" for step, (p50, p99) in f["winner_step_ms"].items()),
        ),
        ("sold-out answers, by step", json.dumps(f["sold_out_answers"])),
        ("errors", json.dumps(f["errors"]) if f["errors"] else "0"),
        ("retries needed", f"{f['retries']} {json.dumps(f['retried'])}" if f["retried"] else "0"),
        ("orders / units sold", f"{f['orders']} / {f['units_sold']}  (told yes: {f['told_yes']})"),
        ("oversold / ghost / lost", f"{f['oversold']} / {f['ghost']} / {f['lost']}"),
        ("reservations still active", str(f["reservations_active"])),
        ("ledger = balance", str(f["ledger_equals_balance"])),
        ("outbox backlog", str(f["outbox_backlog"])),
        (
            "availability read model = stock",
            f"{f['availability_read_model']} = {f['availability_from_stock']}: "
            f"{f['availability_read_model'] == f['availability_from_stock']}",
        ),
        (
            "CPU: load generator / shop / PG+Redis",
            f"{f['generator_cpu_share']:.0%} / {f['server_cpu_share']:.0%} / {f['services_cpu_share']:.0%} of the "
            f"machine; {f['cpu_ms_per_buyer']:.1f} ms of shop + PG + Redis CPU per buyer",
        ),
    ]
    for label, value in rows:
        print(f"  {label:<34} {value}")


def correct(f: dict[str, Any]) -> bool:
    return (
        f["orders"] == f["units"]
        and f["oversold"] == 0
        and f["ghost"] == 0
        and f["lost"] == 0
        and f["ledger_equals_balance"]
        and f["availability_read_model"] == f["availability_from_stock"]
    )


def main(argv: list[str]) -> int:
    if any(a == "--fault" or a.startswith("--fault=") for a in argv):  # a fault mid-sale: benchmarks/faults.py
        from benchmarks.faults import main as with_a_fault

        return with_a_fault(argv)
    if "--waiting-room" in argv:  # a drop through its waiting room, with bots: benchmarks/drop_sale.py
        from benchmarks.drop_sale import main as through_a_waiting_room

        return through_a_waiting_room(argv)
    parser = argparse.ArgumentParser(prog="emporium bench flash-sale --http")
    parser.add_argument("--workers", default="2", help="API worker processes; a list (1,2,4) runs each")
    parser.add_argument("--units", type=int, default=500)
    parser.add_argument("--buyers", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=128)
    parser.add_argument("--generators", type=int, default=2, help="load generator processes")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    # Stopped from outside (a timeout, the CI runner): stop the shop too, as Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    runs = []
    for workers in (int(w) for w in args.workers.split(",")):
        figures = run_sale(workers, args.units, args.buyers, args.concurrency, args.generators, progress=not args.json)
        runs.append(figures)
        if not args.json:
            _print(figures)
    if args.json:
        print(json.dumps(runs if len(runs) > 1 else runs[0], indent=2))
    elif len(runs) > 1:
        print("scaling: " + ", ".join(f"{r['workers']} worker(s) {r['buyers_per_s']:.0f} buyers/s" for r in runs))
    return 0 if all(correct(r) for r in runs) else 1
