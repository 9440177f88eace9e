"""Flash sale: N buyers race for U units of one SKU through the real reserve use case
(Redis gate + PostgreSQL), next to the naive baseline — one-row `UPDATE … qty = qty - 1`
at the same concurrency — in the same run.

    .venv/bin/emporium bench flash-sale --units 500 --buyers 5000 --concurrency 64
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import make_url

from adapters.postgres.engine import make_engine, normalise_url
from adapters.postgres.migrate import ensure_database, upgrade
from adapters.postgres.outbox import libpq_dsn
from adapters.postgres.unit_of_work import PostgresUnitOfWork
from adapters.redis.client import make_redis
from adapters.redis.stock_gate import RedisStockGate
from adapters.system.clock import SystemClock, UuidIdGenerator
from application.inventory import commands as c
from domain.inventory.errors import OutOfStock
from entrypoints.container import build_bus
from entrypoints.settings import get_settings


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


async def warm_up(engine, redis, database_connections: int, redis_connections: int) -> None:
    held = [await engine.connect() for _ in range(database_connections)]
    for conn in held:
        await conn.close()
    await asyncio.gather(*(redis.ping() for _ in range(redis_connections)))


async def run_ours(database_url: str, redis_url: str, units: int, buyers: int, concurrency: int) -> dict[str, float]:
    run = uuid.uuid4().hex[:8]
    sku, location = f"FLASH-{run}", f"bench-{run}"
    engine = make_engine(database_url, pool_size=min(concurrency, 40), max_overflow=0, pool_timeout=60)
    redis = make_redis(redis_url, max_connections=concurrency)
    ids = UuidIdGenerator()
    bus = build_bus(
        uow=lambda: PostgresUnitOfWork(engine, ids), clock=SystemClock(), ids=ids,
        gate=RedisStockGate(redis, prefix=f"bench:{run}:"),
    )
    await bus.handle(c.AddLocation(id=location, name="bench"))
    await bus.handle(c.ReceiveStock(sku=sku, location_id=location, quantity=units, actor="bench"))
    # A serving process has warm pools; so does the baseline.
    await warm_up(engine, redis, min(concurrency, 40), concurrency)

    latencies: list[float] = []
    won = sold_out = 0
    queue = iter(range(buyers))

    async def client() -> None:
        # The same model as the baseline: `concurrency` clients, each buying again as soon as
        # it has its answer.
        nonlocal won, sold_out
        for n in queue:
            started = time.perf_counter()
            try:
                await bus.handle(c.ReserveStock(reference=f"{run}-{n}", lines=[(sku, 1)]))
                won += 1
            except OutOfStock:
                sold_out += 1
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started

    async with engine.connect() as conn:
        on_hand, reserved = (
            await conn.execute(text("SELECT on_hand, reserved FROM stock_items WHERE sku = :s"), {"s": sku})
        ).one()
        ledger_reserved = await conn.scalar(
            text("SELECT sum(reserved_delta) FROM stock_movements WHERE sku = :s"), {"s": sku}
        )
    keys = [k async for k in redis.scan_iter(match=f"bench:{run}:*")]
    if keys:
        await redis.delete(*keys)
    await redis.aclose()
    await engine.dispose()
    return {
        "won": won, "sold_out": sold_out, "oversold": max(0, reserved - on_hand) + max(0, won - units),
        "reserved_in_db": reserved, "ledger_ok": float(ledger_reserved == reserved),
        "attempts_per_s": buyers / elapsed, "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000, "elapsed_s": elapsed,
    }


async def run_baseline(database_url: str, units: int, buyers: int, concurrency: int) -> dict[str, float]:
    dsn = libpq_dsn(normalise_url(database_url))
    sku = f"NAIVE-{uuid.uuid4().hex[:8]}"
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as setup:
        await setup.execute("CREATE TABLE IF NOT EXISTS bench_naive_stock (sku text PRIMARY KEY, qty int NOT NULL)")
        await setup.execute("INSERT INTO bench_naive_stock VALUES (%s, %s)", (sku, units))
    connections = [await psycopg.AsyncConnection.connect(dsn, autocommit=True) for _ in range(concurrency)]
    latencies: list[float] = []
    won = 0
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(buyers):
        queue.put_nowait(n)

    async def worker(conn: psycopg.AsyncConnection) -> None:  # type: ignore[type-arg]
        nonlocal won
        while not queue.empty():
            queue.get_nowait()
            started = time.perf_counter()
            cursor = await conn.execute(
                "UPDATE bench_naive_stock SET qty = qty - 1 WHERE sku = %s AND qty > 0", (sku,)
            )
            won += cursor.rowcount
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker(conn) for conn in connections))
    elapsed = time.perf_counter() - started
    for conn in connections:
        await conn.close()
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as cleanup:
        await cleanup.execute("DELETE FROM bench_naive_stock WHERE sku = %s", (sku,))
    return {
        "won": won, "attempts_per_s": buyers / elapsed, "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000, "elapsed_s": elapsed,
    }


def bench_database_url() -> str:
    url = make_url(normalise_url(get_settings().database_url))
    return url.set(database="emporium_bench").render_as_string(hide_password=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="emporium bench flash-sale")
    parser.add_argument("--units", type=int, default=500)
    parser.add_argument("--buyers", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args(argv)

    database_url = bench_database_url()
    # A fresh database each run: figures must not drift with what earlier runs left behind.
    ensure_database(database_url, recreate=True)
    upgrade(database_url)
    redis_url = get_settings().redis_url

    ours = asyncio.run(run_ours(database_url, redis_url, args.units, args.buyers, args.concurrency))
    naive = asyncio.run(run_baseline(database_url, args.units, args.buyers, args.concurrency))
    print(f"flash sale: {args.buyers} buyers, {args.units} units, concurrency {args.concurrency}")
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
