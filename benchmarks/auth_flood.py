"""Password hashing beside the catalog: product GETs while sign-ups and sign-ins really hash.

    .venv/bin/emporium bench auth-flood [--sign-ups 40] [--sign-ins 40] [--baseline-seconds 3]

Starts one `emporium serve` process on a spare port against a benchmark database of its own, with the sign-up
and sign-in limits raised through settings (so no attempt is refused before it hashes) and a Redis key
prefix of its own. A load generator in a process of its own first times product GETs alone (the
baseline), then runs the same GET loop while it sends every sign-up (with a taken e-mail: 409, the
audit's case) and every sign-in (right password: 200) at once. It prints the GET p50/p99 of both
phases (target: p99 under 50 ms during the flood), how many hashes the answers prove were computed
(every 201/409 sign-up and 200/401 sign-in ran argon2 once), the event loop lag the API recorded
(from /metrics, when it answers), and how much CPU the generator and the server used.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

PORT = 8097
ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "correct horse 42"
TARGET_P99_MS = 50.0
HASHED = {"sign-up": (201, 409), "sign-in": (200, 401)}  # answers that can only come after argon2 ran


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def _get_loop(client: httpx.AsyncClient, url: str, stop: asyncio.Event, out: list[float]) -> None:
    while not stop.is_set():
        started = time.perf_counter()
        response = await client.get(url)
        out.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url}: {response.status_code}")


async def _generate(base: str, slug: str, email: str, sign_ups: int, sign_ins: int, baseline: float) -> dict[str, Any]:
    product = f"{base}/store/products/{slug}"
    limits = httpx.Limits(max_connections=sign_ups + sign_ins + 4, max_keepalive_connections=sign_ups + sign_ins + 4)
    async with httpx.AsyncClient(timeout=120) as reader, httpx.AsyncClient(timeout=300, limits=limits) as crowd:
        alone: list[float] = []
        stop = asyncio.Event()
        loop = asyncio.create_task(_get_loop(reader, product, stop, alone))
        await asyncio.sleep(baseline)  # the baseline phase lasts this long
        stop.set()
        await loop

        during: list[float] = []
        stop = asyncio.Event()
        loop = asyncio.create_task(_get_loop(reader, product, stop, during))
        account = {"email": email, "password": PASSWORD, "name": "Bench"}
        credentials = {"email": email, "password": PASSWORD}
        started = time.perf_counter()
        answers = await asyncio.gather(
            *(crowd.post(f"{base}/store/customers", json=account) for _ in range(sign_ups)),
            *(crowd.post(f"{base}/store/session", json=credentials) for _ in range(sign_ins)),
        )
        flood_seconds = time.perf_counter() - started
        stop.set()
        await loop
    kinds = ["sign-up"] * sign_ups + ["sign-in"] * sign_ins
    statuses: dict[str, dict[int, int]] = {"sign-up": {}, "sign-in": {}}
    for kind, answer in zip(kinds, answers, strict=True):
        statuses[kind][answer.status_code] = statuses[kind].get(answer.status_code, 0) + 1
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "alone": alone, "during": during, "flood_seconds": flood_seconds, "statuses": statuses,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
    }


def _generator_main(argv: list[str]) -> int:
    """The load generator's own process: runs, then prints its figures as one JSON line."""
    base, slug, email, sign_ups, sign_ins, baseline = argv
    wall = time.perf_counter()
    figures = asyncio.run(_generate(base, slug, email, int(sign_ups), int(sign_ins), float(baseline)))
    figures["wall_seconds"] = time.perf_counter() - wall
    print(json.dumps(figures))
    return 0


def _process_cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _loop_lag(base: str) -> dict[float, float] | None:
    """The API's loop-lag histogram, cumulative count per bucket bound; None if /metrics does not answer."""
    response = httpx.get(f"{base}/metrics", timeout=10)
    if response.status_code != 200:
        return None
    buckets = {}
    for line in response.text.splitlines():
        if line.startswith("emporium_event_loop_lag_seconds_bucket"):
            bound = line.split('le="', 1)[1].split('"', 1)[0]
            buckets[float(bound)] = float(line.rsplit(" ", 1)[1])
    return buckets


def _lag_summary(before: dict[float, float] | None, after: dict[float, float] | None) -> str:
    if before is None or after is None:
        return "n/a (/metrics did not answer)"
    delta = {bound: after[bound] - before.get(bound, 0.0) for bound in sorted(after)}
    total = delta.get(float("inf"), 0.0)
    if not total:
        return "no samples"
    worst = next(bound for bound, count in delta.items() if count >= total)
    over = total - max((c for b, c in delta.items() if b <= 0.025), default=0.0)
    return f"{total:.0f} samples (every 0.1 s), {over:.0f} over 25 ms, all under {worst:g} s"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--generator"]:
        return _generator_main(argv[1:])
    parser = argparse.ArgumentParser(prog="emporium bench auth-flood")
    parser.add_argument("--sign-ups", type=int, default=40)
    parser.add_argument("--sign-ins", type=int, default=40)
    parser.add_argument("--baseline-seconds", type=float, default=3.0)
    args = parser.parse_args(argv)

    from sqlalchemy.engine import make_url

    from adapters.postgres.migrate import ensure_database, upgrade
    from benchmarks.catalog_get import seed_product
    from benchmarks.flash_sale import bench_database_url
    from entrypoints.cli.processes import wait_http

    # A database of its own: other benches may recreate theirs while this one runs.
    database_url = make_url(bench_database_url()).set(database="emporium_bench_auth").render_as_string(
        hide_password=False)
    ensure_database(database_url)
    upgrade(database_url)
    slug, _ = asyncio.run(seed_product(database_url))
    huge = "1000000"
    env = dict(
        os.environ, DATABASE_URL=database_url, EMPORIUM_PORT=str(PORT), EMPORIUM_LOG_LEVEL="WARNING",
        EMPORIUM_ENVIRONMENT="development", EMPORIUM_REDIS_KEY_PREFIX=f"bench:{uuid.uuid4().hex[:8]}:",
        EMPORIUM_AUTH_SIGN_INS_PER_IP=huge, EMPORIUM_AUTH_SIGN_UPS_PER_IP=huge, EMPORIUM_AUTH_FREE_ATTEMPTS=huge,
        EMPORIUM_AUTH_ACCOUNT_FREE_ATTEMPTS=huge,
        EMPORIUM_STORE_WRITE_RATE_PER_IP="0",  # the whole flood comes from one address, at once
    )
    server = subprocess.Popen([sys.executable, "-m", "entrypoints.cli", "serve"], env=env, start_new_session=True)
    try:
        base = f"http://127.0.0.1:{PORT}"
        if not wait_http(f"{base}/health/live", timeout=30):
            print("server did not start")
            return 1
        email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
        taken = httpx.post(f"{base}/store/customers", json={"email": email, "password": PASSWORD, "name": "Bench"},
                           timeout=30)
        assert taken.status_code == 201, taken.text
        lag_before = _loop_lag(base)
        server_cpu = _process_cpu_seconds(server.pid)
        generator_env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT)]))
        generated = subprocess.run(
            [sys.executable, "-m", "benchmarks.auth_flood", "--generator", base, slug, email,
             str(args.sign_ups), str(args.sign_ins), str(args.baseline_seconds)],
            env=generator_env, cwd=ROOT, capture_output=True, text=True, check=True,
        )
        server_cpu_after = _process_cpu_seconds(server.pid)
        lag_after = _loop_lag(base)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=15)
    figures = json.loads(generated.stdout.strip().splitlines()[-1])
    alone, during = figures["alone"], figures["during"]
    hashes = sum(count for kind, by_status in figures["statuses"].items()
                 for status, count in by_status.items() if int(status) in HASHED[kind])
    p99 = _percentile(during, 0.99)
    print(f"auth flood, one uvicorn process, {os.cpu_count()} CPUs: {args.sign_ups} sign-ups (taken e-mail) and "
          f"{args.sign_ins} sign-ins at once, beside a product GET loop")
    print(f"  answers: {figures['statuses']}  ->  {hashes} hashes computed")
    print(f"  flood lasted {figures['flood_seconds']:.2f} s")
    print(f"  product GET alone:        {len(alone):5d} GETs  p50 {statistics.median(alone):6.1f} ms  "
          f"p99 {_percentile(alone, 0.99):6.1f} ms")
    print(f"  product GET during flood: {len(during):5d} GETs  p50 {statistics.median(during):6.1f} ms  "
          f"p99 {p99:6.1f} ms  max {max(during):6.1f} ms  (target p99 < {TARGET_P99_MS:.0f} ms: "
          f"{'met' if p99 < TARGET_P99_MS else 'NOT met'})")
    print(f"  event loop lag (API, whole run): {_lag_summary(lag_before, lag_after)}")
    generator_share = figures["cpu_seconds"] / figures["wall_seconds"]
    print(f"  CPU: load generator {figures['cpu_seconds']:.2f} s over {figures['wall_seconds']:.2f} s "
          f"({generator_share:.0%} of one core)", end="")
    if server_cpu is not None and server_cpu_after is not None:
        print(f"; server {server_cpu_after - server_cpu:.2f} s", end="")
    print()
    if hashes < args.sign_ups + args.sign_ins:
        print(f"only {hashes} of {args.sign_ups + args.sign_ins} attempts hashed: something refused them early")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
