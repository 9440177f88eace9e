"""How long the worker takes to catch up with a bulk import: `emporium seed --products N` with the relay
and a worker running, as `emporium run` starts them.

    .venv/bin/emporium bench catch-up [--products 40000] [--threads 4] [--worker-after]
                                      [--database emporium_bench_catch_up]

On a fresh database (dropped and migrated again): starts the relay and one worker process (`emporium worker
--threads N --no-schedule`, its own broker namespace), waits for the worker's heartbeat, runs the seed
(`--worker-after`: the worker starts only once the seed has ended, so the catch-up is the whole backlog,
worked off alone), and from the moment it ends polls until nothing is left to deliver: no unpublished outbox
row and no message in the broker's queue (queued, delayed for a retry or held unacknowledged by the worker:
Dramatiq keeps a message's body until it is acked). Then it checks that the read side caught up: every
product's storefront document at its product's version, a listing row per active product in the whole catalog
and in its category, every category in ``read.categories`` and a search document per active product. Prints
the seed's time, the catch-up after it, the deliveries ((consumer, event) marks) per consumer and the checks.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import redis
from sqlalchemy.engine import make_url

from adapters.dramatiq.broker import QUEUE
from adapters.dramatiq.heartbeat import heartbeat_key
from adapters.postgres.engine import normalise_url
from adapters.postgres.migrate import ensure_database, upgrade
from benchmarks.flash_sale_http import stop_stack
from entrypoints.cli.seed import DEMO_PRODUCTS
from entrypoints.settings import get_settings

CHECKS = {
    "documents at their product's version": """
        SELECT count(*) FROM products p JOIN read.products d ON d.id = p.id AND d.version = p.version""",
    "products": "SELECT count(*) FROM products",
    "listing rows (whole catalog, no currency)":
        "SELECT count(*) FROM read.product_listing WHERE scope = '' AND currency = ''",
    "listing rows (category pages, no currency)":
        "SELECT count(*) FROM read.product_listing WHERE scope <> '' AND currency = ''",
    "active products": "SELECT count(*) FROM products WHERE status = 'active'",
    "category trees projected at their version": """
        SELECT count(*) FROM category_tree c JOIN read.categories r ON r.id = c.id AND r.version = c.version""",
    "category trees": "SELECT count(*) FROM category_tree",
    "search documents": "SELECT count(*) FROM search.documents",
}


def _psycopg_url(database_url: str) -> str:
    return make_url(normalise_url(database_url)).set(drivername="postgresql").render_as_string(hide_password=False)


def _fresh_database(database_url: str) -> None:
    url = make_url(normalise_url(database_url))
    admin = _psycopg_url(url.set(database="postgres").render_as_string(hide_password=False))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
    ensure_database(database_url)
    upgrade(database_url)


def _worker(env: dict[str, str], threads: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "entrypoints.cli", "worker", "--processes", "1", "--threads",
                             str(threads), "--no-schedule"], env=env, start_new_session=True)


@contextlib.contextmanager
def _pipeline(env: dict[str, str], threads: int, *, worker: bool) -> Iterator[list[subprocess.Popen[bytes]]]:
    processes = [subprocess.Popen([sys.executable, "-m", "entrypoints.cli", "relay"], env=env, start_new_session=True)]
    if worker:
        processes.append(_worker(env, threads))
    try:
        yield processes
    finally:
        stop_stack(processes)


def _scalar(dsn: str, sql: str) -> int:
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute(sql).fetchone()
    return int(row[0]) if row else 0


def _left(dsn: str, client: redis.Redis, namespace: str) -> tuple[int, int]:
    """(unpublished outbox rows, messages the broker still holds)."""
    unpublished = _scalar(dsn, "SELECT count(*) FROM outbox WHERE published_at IS NULL")
    held = sum(int(client.hlen(f"{namespace}:{queue}.msgs")) for queue in (QUEUE, f"{QUEUE}.DQ"))
    return unpublished, held


def _wait(check: Any, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"gave up waiting for {what}")
        time.sleep(0.2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="emporium bench catch-up")
    parser.add_argument("--products", type=int, default=40_000)
    parser.add_argument("--threads", type=int, default=4, help="worker threads (emporium worker's default)")
    parser.add_argument("--database", default="emporium_bench_catch_up")
    parser.add_argument("--worker-after", action="store_true",
                        help="start the worker only once the seed has ended: the catch-up is then the whole backlog")
    parser.add_argument("--timeout", type=float, default=1800.0, help="give up after this many seconds of catch-up")
    args = parser.parse_args(argv)

    settings = get_settings()
    database_url = make_url(normalise_url(settings.database_url)).set(database=args.database).render_as_string(
        hide_password=False)
    dsn = _psycopg_url(database_url)
    namespace = f"bench-catch-up-{uuid.uuid4().hex[:6]}"
    prefix = f"{namespace}:"
    print(f"fresh database {args.database}, broker namespace {namespace}", flush=True)
    _fresh_database(database_url)
    env = dict(os.environ, DATABASE_URL=database_url, EMPORIUM_BROKER_NAMESPACE=namespace,
               EMPORIUM_REDIS_KEY_PREFIX=prefix, EMPORIUM_LOG_LEVEL="WARNING")
    client = redis.Redis.from_url(settings.redis_url)
    try:
        with _pipeline(env, args.threads, worker=not args.worker_after) as processes:
            if not args.worker_after:
                _wait(lambda: client.zcard(heartbeat_key(prefix)) > 0, "the worker's heartbeat", 120)
            started = time.monotonic()
            subprocess.run([sys.executable, "-m", "entrypoints.cli", "seed", "--products", str(args.products)],
                           env=env, check=True)
            if args.worker_after:  # the whole backlog waits for it; its start-up counts in the catch-up
                processes.append(_worker(env, args.threads))
            seeded = time.monotonic()
            left_at_end = _left(dsn, client, namespace)
            print(f"seed ended after {seeded - started:.1f}s; left to deliver: {left_at_end[0]} outbox rows, "
                  f"{left_at_end[1]} broker messages", flush=True)
            last = 0.0

            def done() -> bool:
                nonlocal last
                unpublished, held = _left(dsn, client, namespace)
                if time.monotonic() - last > 10:
                    last = time.monotonic()
                    print(f"  +{last - seeded:.0f}s: {unpublished} outbox rows, {held} broker messages", flush=True)
                return unpublished == 0 and held == 0

            _wait(done, "the worker to catch up", args.timeout)
            caught_up = time.monotonic()
    finally:
        for key in client.scan_iter(f"{namespace}:*"):
            client.delete(key)
        client.close()
    with psycopg.connect(dsn, autocommit=True) as conn:
        deliveries = conn.execute(
            "SELECT consumer, count(*) FROM processed_events GROUP BY consumer ORDER BY 2 DESC, 1").fetchall()
        events = conn.execute("SELECT topic, count(*) FROM outbox GROUP BY topic ORDER BY 2 DESC, 1").fetchall()
    checks = {name: _scalar(dsn, sql) for name, sql in CHECKS.items()}

    print()
    print(f"products seeded          {args.products:,}")
    print(f"seed                     {seeded - started:.1f} s")
    print(f"catch-up after the seed  {caught_up - seeded:.1f} s")
    print(f"seed start to caught up  {caught_up - started:.1f} s "
          f"({args.products / max(caught_up - started, 1e-9):,.0f} products/s)")
    print("events:      " + ", ".join(f"{topic} {count:,}" for topic, count in events))
    print(f"deliveries:  {sum(c for _, c in deliveries):,} (" + ", ".join(f"{n} {c:,}" for n, c in deliveries) + ")")
    for name, value in checks.items():
        print(f"  {name:45} {value:,}")
    uncategorised = len(DEMO_PRODUCTS)  # the demo products name no category
    ok = (checks["documents at their product's version"] == checks["products"]
          and checks["listing rows (whole catalog, no currency)"] == checks["active products"]
          and checks["listing rows (category pages, no currency)"] >= checks["active products"] - uncategorised
          and checks["category trees projected at their version"] == checks["category trees"]
          and checks["search documents"] == checks["active products"])
    print("read side caught up" if ok else "READ SIDE NOT CAUGHT UP")
    return 0 if ok else 1
