"""Product GET throughput next to a bare Litestar endpoint, on the same server in the same run.

    .venv/bin/emporium bench catalog-get [--seconds 5] [--concurrency 32] [--edge] [--changes 5]

Starts `emporium serve` on a spare port against the benchmark database, then drives it with wrk (or, without
it, an httpx client in this process): the bare endpoint (/health/live), the product document (200) and the
product revalidated with its ETag (304, what a CDN does when its copy expires).

With ``--edge`` it also starts the edge (`emporium edge`: Varnish with deploy/varnish/emporium.vcl) in front
of the API, and the worker and the relay that purge it, drives the cached product through the edge in the same
run, and measures a price change's way to the shopper: the change committed, the worker's purge, the first
request through the edge that shows the new price (``--changes`` times).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
import uuid

import httpx

from adapters.postgres.engine import make_engine
from adapters.postgres.migrate import ensure_database, upgrade
from adapters.postgres.unit_of_work import PostgresUnitOfWork
from adapters.system.clock import UuidIdGenerator
from application.catalog.commands import CreateProduct, PriceSpec, SetPrices
from application.catalog.projection import project_product
from benchmarks.flash_sale import bench_database_url
from benchmarks.wiring import bench_bus
from entrypoints.cli.processes import wait_http

PORT = 8099
EDGE_PORT, EDGE_ADMIN_PORT = 8096, 8095


async def seed_product(database_url: str) -> tuple[str, str]:
    engine = make_engine(database_url, pool_size=2)
    ids = UuidIdGenerator()
    bus = bench_bus(engine)
    suffix = uuid.uuid4().hex[:8]
    product_id = await bus.handle(
        CreateProduct(name=f"Bench Shoe {suffix}", sku=f"BENCH-{suffix}", price_amount=9900, currency="EUR")
    )
    async with PostgresUnitOfWork(engine, ids) as tx:
        await project_product(product_id, tx)
        await tx.commit()
    await engine.dispose()
    return f"bench-shoe-{suffix}", f"BENCH-{suffix}"


UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _milliseconds(text: str) -> float:
    number = text.rstrip("usm")
    return float(number) * UNITS[text[len(number):]]


def load_with_wrk(url: str, seconds: float, concurrency: int, headers: dict[str, str]) -> tuple[float, float]:
    """wrk (Debian's package) drives the server from C, so the client is not the bottleneck; (req/s, p99 ms)."""
    args = ["wrk", "-t2", f"-c{concurrency}", f"-d{max(1, int(seconds))}s", "--latency"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    rate = float(next(line.split()[1] for line in out.splitlines() if line.startswith("Requests/sec")))
    p99 = _milliseconds(next(line.split()[1] for line in out.splitlines() if line.strip().startswith("99%")))
    if "Non-2xx or 3xx responses" in out:
        raise RuntimeError(out)
    return rate, p99


async def load(url: str, seconds: float, concurrency: int, headers: dict[str, str]) -> tuple[float, float]:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=10) as client:
        deadline = time.perf_counter() + seconds
        times: list[float] = []
        statuses: set[int] = set()

        async def worker() -> None:
            while time.perf_counter() < deadline:
                began = time.perf_counter()
                response = await client.get(url, headers=headers)
                times.append(time.perf_counter() - began)
                statuses.add(response.status_code)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    assert len(statuses) == 1, statuses
    times.sort()
    return len(times) / elapsed, times[int(len(times) * 0.99)] * 1000


async def change_to_visible(database_url: str, edge_url: str, slug: str, sku: str, changes: int) -> list[float]:
    """Seconds from each price change's commit to the first request through the edge that shows it."""
    engine = make_engine(database_url, pool_size=2)
    bus = bench_bus(engine)
    async with PostgresUnitOfWork(engine, UuidIdGenerator()) as tx:
        price_list = await tx.price_lists.default_for("EUR")
    took = []
    async with httpx.AsyncClient(timeout=10) as client:
        for n in range(changes):
            amount = 10_000 + n
            await bus.handle(SetPrices(price_list_id=price_list.id, prices=[PriceSpec(sku=sku, amount=amount)]))
            changed = time.perf_counter()
            while True:
                page = (await client.get(f"{edge_url}/store/products/{slug}")).json()
                if page["variants"][0]["prices"][0]["amount"] == amount:
                    break
                if time.perf_counter() - changed > 60:
                    raise RuntimeError("a price change did not reach the edge within 60 s")
                await asyncio.sleep(0.005)
            took.append(time.perf_counter() - changed)
    await engine.dispose()
    return took


def stop_processes(procs: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM each process (not its group: Dramatiq's main process forwards it to its forks, and a fork that
    gets a second one abandons its shutdown), then SIGKILL whatever is left of the groups after 15 s."""
    for proc in reversed(procs):
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for proc in procs:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="emporium bench catalog-get")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--edge", action="store_true", help="also through the edge (Varnish) in front of the API")
    parser.add_argument("--changes", type=int, default=5, help="price changes timed to the edge (with --edge)")
    args = parser.parse_args(argv)

    database_url = bench_database_url()
    ensure_database(database_url)
    upgrade(database_url)
    slug, sku = asyncio.run(seed_product(database_url))
    edge_url = f"http://127.0.0.1:{EDGE_PORT}"
    env = dict(os.environ, DATABASE_URL=database_url, EMPORIUM_PORT=str(PORT), EMPORIUM_LOG_LEVEL="WARNING",
               EMPORIUM_EDGE_PORT=str(EDGE_PORT), EMPORIUM_CDN_PURGE_URL=edge_url if args.edge else "",
               EMPORIUM_CDN_PURGE_TOKEN=f"bench-{uuid.uuid4().hex}", EMPORIUM_BROKER_NAMESPACE=f"bench-{slug}")
    cli = [sys.executable, "-m", "entrypoints.cli"]
    commands = [[*cli, "serve"]]
    if args.edge:
        commands += [[*cli, "worker"], [*cli, "relay"], [*cli, "edge", "--admin-port", str(EDGE_ADMIN_PORT)]]
    procs = [subprocess.Popen(command, env=env, start_new_session=True, stdout=subprocess.DEVNULL)
             for command in commands]
    figures: dict[str, tuple[float, float]] = {}
    took: list[float] = []
    try:
        base = f"http://127.0.0.1:{PORT}"
        if not wait_http(f"{base}/health/live", timeout=30):
            print("server did not start")
            return 1
        if args.edge and not wait_http(f"{edge_url}/.edge/origin", timeout=30):
            print("the edge did not start (is varnish installed? `apt-get install varnish varnish-modules`)")
            return 1
        product = f"{base}/store/products/{slug}"
        etag = httpx.get(product).headers["etag"]
        assert httpx.get(product, headers={"If-None-Match": etag}).status_code == 304

        def measure(url: str, headers: dict[str, str]) -> tuple[float, float]:
            if shutil.which("wrk"):
                return load_with_wrk(url, args.seconds, args.concurrency, headers)
            return asyncio.run(load(url, args.seconds, args.concurrency, headers))

        measure(product, {})  # warm up
        figures["bare Litestar endpoint (/health/live)"] = measure(f"{base}/health/live", {})
        figures["product document at the API (200)"] = measure(product, {})
        figures["product revalidated at the API (304)"] = measure(product, {"If-None-Match": etag})
        if args.edge:
            edged = f"{edge_url}/store/products/{slug}"
            httpx.get(edged)
            assert httpx.get(edged).headers["x-cache"] == "HIT"
            figures["product document through the edge"] = measure(edged, {})
            took = asyncio.run(change_to_visible(database_url, edge_url, slug, sku, args.changes))
    finally:
        stop_processes(procs)
    client = "wrk" if shutil.which("wrk") else "httpx (install wrk for a client that is not the bottleneck)"
    print(f"catalog GET, one uvicorn process, {args.concurrency} connections, {args.seconds:.0f} s each, "
          f"client {client}:")
    bare = figures["bare Litestar endpoint (/health/live)"][0]
    for name, (rate, p99) in figures.items():
        print(f"  {name + ':':42s} {rate:8.0f} req/s  p99 {p99:7.2f} ms  ratio to bare {rate / bare:5.2f}")
    if took:
        print(f"  price change -> shown through the edge ({len(took)} changes): "
              f"median {statistics.median(took) * 1000:.0f} ms, max {max(took) * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
