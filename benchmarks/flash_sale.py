"""Flash sale: N buyers race for U units of one SKU through the real reserve use case
(Redis gate + PostgreSQL), next to the naive baseline — one-row `UPDATE … qty = qty - 1`
at the same concurrency — in the same run.

    .venv/bin/emporium bench flash-sale --units 500 --buyers 5000 --concurrency 64
    .venv/bin/emporium bench flash-sale --processes 2   # the buyers split over two API processes
    .venv/bin/emporium bench flash-sale --http          # through the real storefront (flash_sale_http.py)

With ``--processes N`` each side runs in N processes (``concurrency / N`` clients each), started
together: the reservation groups of different processes then race for the stock row the way
several API workers would.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import make_url

from adapters.postgres.engine import make_engine, normalise_url
from adapters.postgres.migrate import ensure_database, upgrade
from adapters.postgres.outbox import libpq_dsn
from adapters.redis.client import make_redis
from adapters.redis.stock_gate import RedisStockGate
from application.inventory import commands as c
from benchmarks.wiring import bench_bus
from domain.inventory.errors import OutOfStock
from entrypoints.settings import get_settings

Ready = Callable[[], Awaitable[object]]
Shop = Callable[..., Awaitable[dict[str, Any]]]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


async def _now() -> None:
    return None


def _bus(engine: Any, redis: Any, run: str) -> Any:
    return bench_bus(engine, redis=redis, gate=RedisStockGate(redis, prefix=f"bench:{run}:"))


async def _stock_up(database_url: str, redis_url: str, run: str, units: int) -> None:
    engine, redis = make_engine(database_url), make_redis(redis_url)
    bus = _bus(engine, redis, run)
    await bus.handle(c.AddLocation(id=f"bench-{run}", name="bench"))
    await bus.handle(c.ReceiveStock(sku=f"FLASH-{run}", location_id=f"bench-{run}", quantity=units, actor="bench"))
    await redis.aclose()
    await engine.dispose()


async def _shop(
    database_url: str, redis_url: str, run: str, numbers: list[int], concurrency: int, ready: Ready
) -> dict[str, Any]:
    """One API process: ``concurrency`` clients, each buying again as soon as it has its answer."""
    engine = make_engine(database_url, pool_size=min(concurrency, 40), max_overflow=0, pool_timeout=60)
    redis = make_redis(redis_url, max_connections=concurrency)
    bus = _bus(engine, redis, run)
    # A serving process has warm pools; so does the baseline.
    held = [await engine.connect() for _ in range(min(concurrency, 40))]
    for conn in held:
        await conn.close()
    await asyncio.gather(*(redis.ping() for _ in range(concurrency)))

    latencies: list[float] = []
    won = sold_out = 0
    queue = iter(numbers)

    async def client() -> None:
        nonlocal won, sold_out
        for n in queue:
            started = time.perf_counter()
            try:
                await bus.handle(c.ReserveStock(reference=f"{run}-{n}", lines=[(f"FLASH-{run}", 1)]))
                won += 1
            except OutOfStock:
                sold_out += 1
            latencies.append(time.perf_counter() - started)

    await ready()
    started = time.time()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    ended = time.time()
    await redis.aclose()
    await engine.dispose()
    return {"won": won, "sold_out": sold_out, "latencies": latencies, "started": started, "ended": ended}


async def _naive_shop(dsn: str, sku: str, numbers: list[int], concurrency: int, ready: Ready) -> dict[str, Any]:
    connections = [await psycopg.AsyncConnection.connect(dsn, autocommit=True) for _ in range(concurrency)]
    latencies: list[float] = []
    won = 0
    queue = iter(numbers)

    async def worker(conn: psycopg.AsyncConnection) -> None:  # type: ignore[type-arg]
        nonlocal won
        for _ in queue:
            started = time.perf_counter()
            cursor = await conn.execute(
                "UPDATE bench_naive_stock SET qty = qty - 1 WHERE sku = %s AND qty > 0", (sku,)
            )
            won += cursor.rowcount
            latencies.append(time.perf_counter() - started)

    await ready()
    started = time.time()
    await asyncio.gather(*(worker(conn) for conn in connections))
    ended = time.time()
    for conn in connections:
        await conn.close()
    return {"won": won, "sold_out": 0, "latencies": latencies, "started": started, "ended": ended}


def _in_process(shop: Shop, args: tuple[Any, ...], barrier: Any, results: Any) -> None:
    async def ready() -> None:
        await asyncio.to_thread(barrier.wait)  # every process starts buying at the same moment

    results.put(asyncio.run(shop(*args, ready)))


def _race(shop: Shop, args: tuple[Any, ...], buyers: int, concurrency: int, processes: int) -> dict[str, Any]:
    """Run ``shop`` over the buyers in one or several processes; their combined figures."""
    shares = [list(range(buyers))[p::processes] for p in range(processes)]
    if processes == 1:
        parts = [asyncio.run(shop(*args, shares[0], concurrency, _now))]
    else:
        context = multiprocessing.get_context("spawn")
        barrier, results = context.Barrier(processes), context.Queue()
        workers = [
            context.Process(target=_in_process, args=(shop, (*args, share, max(1, concurrency // processes)),
                                                       barrier, results))
            for share in shares
        ]
        for worker in workers:
            worker.start()
        parts = [results.get(timeout=600) for _ in workers]
        for worker in workers:
            worker.join()
    latencies = [latency for part in parts for latency in part["latencies"]]
    elapsed = max(p["ended"] for p in parts) - min(p["started"] for p in parts)
    return {
        "won": sum(p["won"] for p in parts), "sold_out": sum(p["sold_out"] for p in parts),
        "attempts_per_s": buyers / elapsed, "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000, "elapsed_s": elapsed,
    }


async def _audit(database_url: str, redis_url: str, run: str) -> tuple[int, int, int]:
    """(on hand, reserved, reserved by the ledger) of the sale's SKU; the gate's keys removed."""
    engine, redis = make_engine(database_url), make_redis(redis_url)
    async with engine.connect() as conn:
        on_hand, reserved = (
            await conn.execute(text("SELECT on_hand, reserved FROM stock_items WHERE sku = :s"), {"s": f"FLASH-{run}"})
        ).one()
        ledger_reserved = await conn.scalar(
            text("SELECT sum(reserved_delta) FROM stock_movements WHERE sku = :s"), {"s": f"FLASH-{run}"}
        )
    keys = [k async for k in redis.scan_iter(match=f"bench:{run}:*")]
    if keys:
        await redis.delete(*keys)
    await redis.aclose()
    await engine.dispose()
    return on_hand, reserved, int(ledger_reserved)


def run_ours(
    database_url: str, redis_url: str, units: int, buyers: int, concurrency: int, processes: int = 1
) -> dict[str, Any]:
    run = uuid.uuid4().hex[:8]
    asyncio.run(_stock_up(database_url, redis_url, run, units))
    figures = _race(_shop, (database_url, redis_url, run), buyers, concurrency, processes)
    on_hand, reserved, ledger_reserved = asyncio.run(_audit(database_url, redis_url, run))
    return {
        **figures, "oversold": max(0, reserved - on_hand) + max(0, figures["won"] - units),
        "reserved_in_db": reserved, "ledger_ok": float(ledger_reserved == reserved),
    }


def run_baseline(database_url: str, units: int, buyers: int, concurrency: int, processes: int = 1) -> dict[str, Any]:
    dsn = libpq_dsn(normalise_url(database_url))
    sku = f"NAIVE-{uuid.uuid4().hex[:8]}"
    with psycopg.connect(dsn, autocommit=True) as setup:
        setup.execute("CREATE TABLE IF NOT EXISTS bench_naive_stock (sku text PRIMARY KEY, qty int NOT NULL)")
        setup.execute("INSERT INTO bench_naive_stock VALUES (%s, %s)", (sku, units))
    figures = _race(_naive_shop, (dsn, sku), buyers, concurrency, processes)
    with psycopg.connect(dsn, autocommit=True) as cleanup:
        cleanup.execute("DELETE FROM bench_naive_stock WHERE sku = %s", (sku,))
    return figures


def bench_database_url() -> str:
    url = make_url(normalise_url(get_settings().database_url))
    return url.set(database="emporium_bench").render_as_string(hide_password=False)


def main(argv: list[str] | None = None) -> int:
    if argv and "--http" in argv:  # through the real storefront: benchmarks/flash_sale_http.py
        from benchmarks.flash_sale_http import main as over_http

        return over_http([a for a in argv if a != "--http"])
    parser = argparse.ArgumentParser(prog="emporium bench flash-sale")
    parser.add_argument("--units", type=int, default=500)
    parser.add_argument("--buyers", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--processes", type=int, default=1, help="API processes sharing the buyers")
    args = parser.parse_args(argv)

    database_url = bench_database_url()
    # A fresh database each run: figures must not drift with what earlier runs left behind.
    ensure_database(database_url, recreate=True)
    upgrade(database_url)
    redis_url = get_settings().redis_url

    ours = run_ours(database_url, redis_url, args.units, args.buyers, args.concurrency, args.processes)
    naive = run_baseline(database_url, args.units, args.buyers, args.concurrency, args.processes)
    print(f"flash sale: {args.buyers} buyers, {args.units} units, concurrency {args.concurrency},"
          f" {args.processes} process(es)")
    print("  emporium (Redis gate + PostgreSQL reservation, full ledger + outbox):")
    print(f"    successful reservations: {ours['won']}  (must equal units: {ours['won'] == args.units})")
    print(f"    sold out answers:        {ours['sold_out']}")
    print(f"    oversold:                {ours['oversold']}  (ledger = balance: {bool(ours['ledger_ok'])})")
    print(f"    attempts/s:              {ours['attempts_per_s']:.0f}")
    print(f"    latency p50 / p99:       {ours['p50_ms']:.2f} ms / {ours['p99_ms']:.2f} ms")
    print(f"  naive baseline (UPDATE qty = qty - 1 WHERE qty > 0 on one row, {args.concurrency} connections):")
    print(f"    successful decrements:   {naive['won']}")
    print(f"    attempts/s:              {naive['attempts_per_s']:.0f}")
    print(f"    latency p50 / p99:       {naive['p50_ms']:.2f} ms / {naive['p99_ms']:.2f} ms")
    print(f"  ratio (emporium / naive attempts/s): {ours['attempts_per_s'] / naive['attempts_per_s']:.2f}x")
    return 0 if ours["won"] == args.units and ours["oversold"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
