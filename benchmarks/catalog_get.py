"""Product GET throughput next to a bare Litestar endpoint, on the same server in the same run.

    .venv/bin/emporium bench catalog-get [--seconds 5] [--concurrency 32]

Starts `emporium serve` on a spare port against the benchmark database, then drives it with
an httpx client in this process: the bare endpoint (/health/live), the product document (200)
and the product revalidated with its ETag (304, what a CDN does when its copy expires).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid

import httpx

from adapters.postgres.engine import make_engine
from adapters.postgres.migrate import ensure_database, upgrade
from adapters.postgres.unit_of_work import PostgresUnitOfWork
from adapters.system.clock import UuidIdGenerator
from application.catalog.commands import CreateProduct
from application.catalog.handlers import project_product
from benchmarks.flash_sale import bench_database_url
from benchmarks.wiring import bench_bus
from entrypoints.cli.processes import wait_http

PORT = 8099


async def seed_product(database_url: str) -> str:
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
    return f"bench-shoe-{suffix}"


def load_with_wrk(url: str, seconds: float, concurrency: int, headers: dict[str, str]) -> tuple[float, int]:
    """wrk (Debian's package) drives the server from C, so the client is not the bottleneck."""
    args = ["wrk", "-t2", f"-c{concurrency}", f"-d{max(1, int(seconds))}s", "--latency"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    rate = float(next(line.split()[1] for line in out.splitlines() if line.startswith("Requests/sec")))
    if "Non-2xx or 3xx responses" in out:
        raise RuntimeError(out)
    return rate, 0


async def load(url: str, seconds: float, concurrency: int, headers: dict[str, str]) -> tuple[float, int]:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=10) as client:
        deadline = time.perf_counter() + seconds
        counts: list[int] = []
        statuses: set[int] = set()

        async def worker() -> None:
            n = 0
            while time.perf_counter() < deadline:
                response = await client.get(url, headers=headers)
                statuses.add(response.status_code)
                n += 1
            counts.append(n)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    assert len(statuses) == 1, statuses
    return sum(counts) / elapsed, statuses.pop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="emporium bench catalog-get")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args(argv)

    database_url = bench_database_url()
    ensure_database(database_url)
    upgrade(database_url)
    slug = asyncio.run(seed_product(database_url))
    env = dict(os.environ, DATABASE_URL=database_url, EMPORIUM_PORT=str(PORT), EMPORIUM_LOG_LEVEL="WARNING")
    server = subprocess.Popen([sys.executable, "-m", "entrypoints.cli", "serve"], env=env, start_new_session=True)
    try:
        base = f"http://127.0.0.1:{PORT}"
        if not wait_http(f"{base}/health/live", timeout=30):
            print("server did not start")
            return 1
        product = f"{base}/store/products/{slug}"
        etag = httpx.get(product).headers["etag"]
        assert httpx.get(product, headers={"If-None-Match": etag}).status_code == 304

        def measure(url: str, headers: dict[str, str]) -> float:
            if shutil.which("wrk"):
                return load_with_wrk(url, args.seconds, args.concurrency, headers)[0]
            return asyncio.run(load(url, args.seconds, args.concurrency, headers))[0]

        measure(product, {})  # warm up
        bare = measure(f"{base}/health/live", {})
        full = measure(product, {})
        revalidated = measure(product, {"If-None-Match": etag})
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=15)
    client = "wrk" if shutil.which("wrk") else "httpx (install wrk for a client that is not the bottleneck)"
    print(f"catalog GET, one uvicorn process, {args.concurrency} connections, {args.seconds:.0f} s each, "
          f"client {client}:")
    print(f"  bare Litestar endpoint (/health/live):  {bare:8.0f} req/s")
    print(f"  product document (200):                 {full:8.0f} req/s  ratio {full / bare:.2f}")
    print(f"  product revalidated by ETag (304):      {revalidated:8.0f} req/s  ratio {revalidated / bare:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
