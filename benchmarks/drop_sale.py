"""A drop through its waiting room, with bots: `emporium bench flash-sale --http --waiting-room`.

    .venv/bin/emporium bench flash-sale --http --waiting-room --buyers 20000 --units 500 --bots 0.2

A fresh benchmark database, one product of ``--units`` units, and a drop selling it through a waiting
room (``--limit`` units per buyer, admitting at the shop's capacity unless ``--rate`` is given), opening
``--lead`` seconds after the buyers start to arrive. Every buyer is a customer already signed in (the
accounts and their sessions are seeded: signing 20,000 people in would measure argon2, not the sale).
Arrivals are spread over ``--spread`` seconds, so some come before the opening and are ranked by the
draw, the rest queue behind them as they come.

- A **human** has an account, one session and a source address of their own: joins the queue, asks again
  when ``Retry-After`` says, and once admitted walks the checkout with the admission (add, checkout,
  contact, address, shipping, payment, place).
- A **bot** is one account behind ``--bot-sessions`` sessions from ``--bot-addresses`` source addresses:
  every session tries the cart without an admission, joins the queue, and asks again at once, all the
  time, whatever ``Retry-After`` and 429 say; once admitted every session tries to buy ``--limit`` + 1
  units with the admission.

The load generator runs in processes of its own (``--generators``); its CPU share is printed. Afterwards
the database is audited: orders and units sold, oversold, the units each bot account got (at most the
limit), every human told "admitted" or "sold out", the admitted humans' checkout time (admission to
order), 5xx answers seen, the queue's figures and how fair it was: for the humans who came after the
opening, Kendall's tau between the moment each sent its first join (the client's clock: a join refused at
the door and sent again counts from the first) and the place the room gave it (its admission, else its
place in the line, from ``drop_tickets``). ``--timeline`` prints, second by second from the opening, the
room's questions beside the admitted shoppers' checkout steps (their time at the client and in the server).
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
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from benchmarks import flash_sale_http as base

PATIENCE = 600.0  # seconds a human goes on asking the room while told to ask again later (429)
PORT = 8097  # not the flash sale's: the two may run side by side with a test suite's
BOT_POLL = 1.0  # seconds between a bot session's questions to the room, whatever Retry-After says


# --- the load generator (its own processes) ---------------------------------------------------------


def _generate(host: str, port: int, run: str, plan: list[dict[str, Any]], start_at: float, method: str,
              limit: int, results: Any, ready: Any, done: Any, go: Any) -> None:
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    from benchmarks.buyer import Buyer

    async def human(entry: dict[str, Any], drop_path: str) -> dict[str, Any]:
        buyer = Buyer(entry["number"], host, port, entry["address"], run)
        buyer.cookies.update(entry["cookies"])
        seen: dict[str, Any] = {"kind": "human", "number": entry["number"], "account": entry["account"],
                                "told": None, "order_id": None, "checkout_s": None, "error": None, "polls": 0}
        await asyncio.sleep(max(0.0, start_at + entry["arrives"] - time.time()))
        try:
            answer = await buyer.call("join", "POST", f"{drop_path}/queue", patient=PATIENCE)
            while answer.status == 200 and answer.json()["status"] == "waiting":
                wait = int(dict(answer.headers).get("retry-after", "1"))
                await asyncio.sleep(wait)
                seen["polls"] += 1
                answer = await buyer.call(f"poll-{seen['polls']}", "GET", f"{drop_path}/queue", patient=PATIENCE)
            if answer.status != 200:
                seen["told"] = "sold_out" if answer.problem_type in ("drop-not-open", "out-of-stock") else None
                seen["error"] = None if seen["told"] else f"queue: {answer.status} {answer.problem_type}"
                return seen
            view = answer.json()
            seen["told"] = view["status"]
            if view["status"] != "admitted":
                return seen
            admitted = time.perf_counter()
            pass_ = {"Drop-Admission": view["admission"]}
            order_id, problem = await _checkout(buyer, entry["sku"], 1, method, pass_, entry["shipping"])
            seen["checkout_s"] = time.perf_counter() - admitted
            seen["order_id"], seen["refused"] = order_id, problem
            seen["steps"] = [(step, seconds) for step, seconds in buyer.outcome.steps
                             if not step.startswith(("join", "poll"))]
        except Exception as error:  # noqa: BLE001 — a buyer that gave up is a figure, not a crash
            seen["error"] = f"{type(error).__name__}: {error}"
        finally:
            seen["fivexx"] = sum(n for why, n in buyer.outcome.retried.items() if why.startswith("5"))
            seen["requests"] = buyer.outcome.requests
            seen["log"] = buyer.outcome.log
            await buyer.connection.close()
            with done.get_lock():
                done.value += 1
        return seen

    async def _checkout(buyer: Buyer, sku: str, quantity: int, method: str, pass_: dict[str, str],
                        address: dict[str, str]) -> tuple[str | None, str | None]:
        added = await buyer.call("add", "POST", "/store/cart/lines", {"sku": sku, "quantity": quantity}, pass_)
        if added.status != 201:
            return None, added.problem_type or str(added.status)
        return await _pay(buyer, method, pass_, address)

    async def _pay(buyer: Buyer, method: str, pass_: dict[str, str], address: dict[str, str],
                   again: str = "") -> tuple[str | None, str | None]:
        """The cart through a new checkout to a placed order (``again``: a second go, its own Idempotency-Keys)."""
        checkout = await buyer.call(f"checkout{again}", "POST", "/store/checkout")
        if checkout.status != 201:
            return None, checkout.problem_type or str(checkout.status)
        path = f"/store/checkout/{checkout.json()['id']}"
        for step, verb, body, extra in (
            ("contact", "PUT", {"email": f"{buyer.run}-{buyer.number}@example.com"}, None),
            ("address", "PUT", {"shipping": address}, None),
            ("shipping", "PUT", {"method_id": method}, None),
            ("payment", "POST", {"provider": "manual"}, pass_),
        ):
            answer = await buyer.call(f"{step}{again}", verb, f"{path}/{step}", body, extra)
            if answer.status != 200:
                return None, answer.problem_type or str(answer.status)
        placed = await buyer.call(f"place{again}", "POST", f"{path}/place")
        if placed.status != 201:
            return None, placed.problem_type or str(placed.status)
        return placed.json()["order_id"], None

    async def bot(entry: dict[str, Any], drop_path: str) -> dict[str, Any]:
        """One bot session: hammers the cart, then the room, then buys more than the limit with the admission."""
        buyer = Buyer(entry["number"], host, port, entry["address"], run)
        buyer.cookies.update(entry["cookies"])
        seen: dict[str, Any] = {"kind": "bot", "number": entry["number"], "account": entry["account"],
                                "told": None, "order_id": None, "error": None, "polls": 0, "throttled": 0}
        await asyncio.sleep(max(0.0, start_at + entry["arrives"] - time.time()))
        try:
            sneak = await buyer.logged(
                "sneak", "POST", "/store/cart/lines",
                {**buyer._headers("POST", "sneak"), "Drop-Admission": "a1.forged.x.1.y"},
                json.dumps({"sku": entry["sku"], "quantity": limit + 1}).encode())
            seen["sneak"] = sneak.status
            view: dict[str, Any] = {"status": "waiting"}
            deadline = time.time() + 120
            first = True
            while view.get("status") == "waiting" and time.time() < deadline:
                answer = await buyer.logged(
                    "join" if first else "poll", "POST" if first else "GET", f"{drop_path}/queue",
                    buyer._headers("POST" if first else "GET", f"join-{seen['polls']}"))
                buyer._remember(answer)
                seen["polls"] += 1
                if answer.status == 429:
                    seen["throttled"] += 1
                elif answer.status >= 500:
                    seen["fivexx"] = seen.get("fivexx", 0) + 1
                elif answer.status == 200:
                    first = False
                    view = answer.json()
                elif answer.status in (404, 409):
                    view = {"status": "sold_out"}
                if view.get("status") == "waiting":
                    await asyncio.sleep(BOT_POLL)
            seen["told"] = view.get("status")
            if view.get("status") == "admitted":
                pass_ = {"Drop-Admission": view["admission"]}
                seen["order_id"], seen["refused"] = await _checkout(
                    buyer, entry["sku"], limit + 1, method, pass_, entry["shipping"])
                if seen["order_id"] is None and seen["refused"] == "purchase-limit":
                    seen["order_id"], seen["refused"] = await _retry_within(buyer, entry, limit, method, pass_)
        except Exception as error:  # noqa: BLE001
            seen["error"] = f"{type(error).__name__}: {error}"
        finally:
            seen["fivexx"] = seen.get("fivexx", 0) + sum(
                n for why, n in buyer.outcome.retried.items() if why.startswith("5"))
            seen["requests"] = buyer.outcome.requests + seen["polls"] + 1
            seen["log"] = buyer.outcome.log
            await buyer.connection.close()
            with done.get_lock():
                done.value += 1
        return seen

    async def _retry_within(buyer: Buyer, entry: dict[str, Any], limit: int, method: str,
                            pass_: dict[str, str]) -> tuple[str | None, str | None]:
        """Refused over the limit: the bot lowers the quantity to the limit and pays again."""
        cart = (await buyer.call("cart", "GET", "/store/cart")).json()
        for line in cart.get("lines", []):
            await buyer.call(f"fix-{line['id']}", "PATCH", f"/store/cart/lines/{line['id']}", {"quantity": limit})
        return await _pay(buyer, method, pass_, entry["shipping"], again="-2")

    async def everyone() -> list[dict[str, Any]]:
        return list(await asyncio.gather(*(
            (human if entry["kind"] == "human" else bot)(entry, entry["drop_path"]) for entry in plan)))

    with ready.get_lock():
        ready.value += 1
    go.wait()
    started, cpu = time.perf_counter(), time.process_time()
    seen = asyncio.run(everyone())
    results.put({"seen": seen, "cpu_seconds": time.process_time() - cpu, "wall_seconds": time.perf_counter() - started})


# --- the shop under test ----------------------------------------------------------------------------


def _database_url(name: str = "emporium_bench_drop") -> str:
    from sqlalchemy.engine import make_url

    from benchmarks.flash_sale import bench_database_url

    return make_url(bench_database_url()).set(database=name).render_as_string(hide_password=False)


def _seed_accounts(dsn: str, run: str, count: int) -> list[str]:
    """``count`` customers at once, with one password hash for all (nobody signs in: sessions are seeded)."""
    ids = [f"c-{run}-{n}" for n in range(count)]
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(
            """INSERT INTO customers (id, email, name, password_hash, groups, addresses, marketing_opt_in,
                                      created_at, version)
               SELECT id, id || '@example.com', 'Buyer', 'seeded: never signs in', '[]', '[]', false, now(), 1
               FROM unnest(%s::text[]) AS id""",
            (ids,),
        )
    return ids


async def _seed_sessions(redis_url: str, prefix: str, customers: list[str]) -> list[str]:
    from adapters.redis.client import make_redis
    from adapters.redis.sessions import RedisSessionStore

    redis = make_redis(redis_url)
    store = RedisSessionStore(redis, prefix=f"{prefix}session:")
    tokens: list[str] = []
    for start in range(0, len(customers), 500):
        tokens += await asyncio.gather(*(store.create(c, ttl_seconds=3600) for c in customers[start:start + 500]))
    await redis.aclose()
    return tokens


async def _schedule(database_url: str, prefix: str, sku: str, opens_at: datetime, limit: int,
                    rate: float | None) -> str:
    """The drop, scheduled as the admin API would: under the shop's Redis prefix, so the serving processes
    hear of it at once (the commit bumps the catalog version they keep the live drops under)."""
    import msgspec
    from dependency_injector import providers

    from application.drops import handlers as d
    from domain.drops.drop import DropTerms
    from entrypoints.container import Container, close
    from entrypoints.settings import get_settings

    container = Container()
    container.settings.override(providers.Object(
        msgspec.structs.replace(get_settings(), database_url=database_url, redis_key_prefix=prefix)))
    try:
        drop = await container.bus().handle(d.ScheduleDrop(terms=DropTerms(
            name="Bench drop", skus=(sku,), opens_at=opens_at, time_zone="Europe/Berlin", per_customer_limit=limit,
            admission_rate=rate)))
    finally:
        await close(container)
    return str(drop["id"])


def _kendall_tau_b(pairs: list[tuple[float, float]]) -> float:
    """Kendall's tau-b of (x, y) pairs (ties in either counted as neither concordant nor discordant)."""
    concordant = discordant = ties_x = ties_y = 0
    for i in range(len(pairs)):
        xi, yi = pairs[i]
        for j in range(i + 1, len(pairs)):
            dx, dy = xi - pairs[j][0], yi - pairs[j][1]
            if dx == 0 and dy == 0:
                continue
            if dx == 0:
                ties_x += 1
            elif dy == 0:
                ties_y += 1
            elif (dx > 0) == (dy > 0):
                concordant += 1
            else:
                discordant += 1
    denominator = ((concordant + discordant + ties_x) * (concordant + discordant + ties_y)) ** 0.5
    return (concordant - discordant) / denominator if denominator else 1.0


QUEUE_STEPS = ("join", "poll", "sneak")


def timeline(seen: list[dict[str, Any]], opens_at: float, *, bucket: float = 2.0) -> list[dict[str, Any]]:
    """What the shop answered, second by second from the opening: the room's questions (and how many were
    refused 429) beside the admitted shoppers' checkout steps, their time at the client and in the server."""
    rows: dict[int, dict[str, Any]] = {}
    for s in seen:
        for sent, step, status, seconds, server_ms in s.get("log", ()):
            row = rows.setdefault(int((sent - opens_at) // bucket), {
                "queue": 0, "queue_429": 0, "steps": 0, "step_s": [], "server_ms": []})
            if step.startswith(QUEUE_STEPS):
                row["queue"] += 1
                row["queue_429"] += status == 429
            else:
                row["steps"] += 1
                row["step_s"].append(seconds)
                row["server_ms"].append(server_ms)
    out = []
    for key in sorted(rows):
        row = rows[key]
        out.append({"from_s": key * bucket, "queue_per_s": row["queue"] / bucket,
                    "queue_429_per_s": row["queue_429"] / bucket, "steps_per_s": row["steps"] / bucket,
                    "step_p50_ms": statistics.median(row["step_s"]) * 1000 if row["step_s"] else None,
                    "step_max_ms": max(row["step_s"]) * 1000 if row["step_s"] else None,
                    "server_p50_ms": statistics.median(row["server_ms"]) if row["server_ms"] else None})
    return out


def _audit(dsn: str, sku: str, drop_id: str, units: int, opens_at: datetime,
           arrivals: dict[str, float]) -> dict[str, Any]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        by_customer = conn.execute(
            """SELECT o.customer_id, sum((line->>'quantity')::int) FROM orders o,
                      jsonb_array_elements(o.data->'lines') AS line
               WHERE line->>'sku' = %s AND o.status <> 'cancelled' GROUP BY o.customer_id""", (sku,)).fetchall()
        orders = conn.execute(
            """SELECT count(DISTINCT o.id) FROM orders o, jsonb_array_elements(o.data->'lines') AS line
               WHERE line->>'sku' = %s AND o.status <> 'cancelled'""", (sku,)).fetchone()[0]
        balance = conn.execute("SELECT sum(on_hand), sum(reserved), sum(committed) FROM stock_items WHERE sku = %s",
                               (sku,)).fetchone()
        ledger = conn.execute(
            "SELECT sum(on_hand_delta), sum(reserved_delta), sum(committed_delta) FROM stock_movements WHERE sku = %s",
            (sku,)).fetchone()
        held = conn.execute(
            """SELECT coalesce(sum(reserved), 0) FROM stock_items WHERE sku = %s""", (sku,)).fetchone()[0]
        tickets = conn.execute(
            """SELECT holder, joined_at, admitted_at FROM drop_tickets WHERE drop_id = %s""", (drop_id,)).fetchall()
    sold = sum(int(q) for _, q in by_customer)
    per_customer = {c: int(q) for c, q in by_customer}
    # Fairness for the humans who arrived after the opening: the moment each sent its first join (the
    # client's clock) against the place the room gave it — its admission, else its place in the line,
    # behind everyone admitted (after the opening the line is in the order the room recorded the joins).
    place = {holder.split(":", 1)[1]: (0, admitted.timestamp()) if admitted else (1, joined.timestamp())
             for holder, joined, admitted in tickets}
    late = sorted((arrived, place[account]) for account, arrived in arrivals.items()
                  if arrived >= opens_at.timestamp() and account in place)
    ranked = {key: rank for rank, key in enumerate(sorted(p for _, p in late))}
    sample = [(arrived, float(ranked[p])) for arrived, p in late][:: max(1, len(late) // 1500)]  # O(n²)
    return {
        # A buyer who stopped after paying started (a bot whose other session changed the shared cart) holds
        # units until the hold lapses: held, not sold, not lost.
        "orders": orders, "units_sold": sold, "units_held": int(held), "oversold": max(0, sold - units),
        "per_customer": per_customer,
        "ledger_equals_balance": tuple(int(v) for v in ledger) == tuple(int(v) for v in balance),
        "tickets_issued": len(tickets), "tickets_admitted": sum(1 for t in tickets if t[2] is not None),
        "tickets_early": sum(1 for t in tickets if t[1] < opens_at),
        "fair_sample": len(sample), "kendall_tau": _kendall_tau_b(sample) if len(sample) > 1 else None,
    }


def run_drop(args: argparse.Namespace) -> dict[str, Any]:
    from adapters.postgres.migrate import ensure_database, upgrade
    from entrypoints.cli.processes import wait_http
    from entrypoints.http.store.identity import CSRF_COOKIE, SESSION_COOKIE, csrf_token
    from entrypoints.settings import get_settings

    run = uuid.uuid4().hex[:8]
    settings = get_settings()
    database_url = _database_url(args.database)
    port = args.port
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        raise RuntimeError(f"port {port} is in use: is another benchmark running?")
    ensure_database(database_url, recreate=True)
    upgrade(database_url)
    dsn = base._dsn(database_url)
    sku = f"DROP-{run}"
    asyncio.run(base._seed_one(database_url, run, sku, args.units))
    asyncio.run(base._seed_one(database_url, run, f"SOLO-{run}", 10))

    bots = round(args.buyers * args.bots)
    humans = args.buyers - bots
    bot_accounts = max(1, bots // args.bot_sessions) if bots else 0
    accounts = _seed_accounts(dsn, run, humans + bot_accounts)
    prefix = f"bench:{run}:"
    tokens = asyncio.run(_seed_sessions(settings.redis_url, prefix, accounts[:humans] + [
        accounts[humans + b % bot_accounts] for b in range(bots)]))

    stack = base._start_stack(database_url, args.workers, run, port)
    host = "127.0.0.1"
    try:
        if not wait_http(f"http://{host}:{port}/health/live", timeout=60,
                         give_up=lambda: any(p.poll() is not None for p in stack)):
            raise RuntimeError("the server did not start")
        base._wait_caught_up(dsn, (sku, f"SOLO-{run}"), timeout=120)
        method = base._shipping_method(host, port, run, f"SOLO-{run}")
        start_at = time.time() + 3 + args.buyers / 4000  # the generators' imports and plans done by then
        opens_at = datetime.fromtimestamp(start_at + args.lead, UTC).replace(microsecond=0) + timedelta(seconds=1)
        drop_id = asyncio.run(_schedule(database_url, prefix, sku, opens_at, args.limit, args.rate))
        drop_path = f"/store/drops/{drop_id}"
        plan: list[dict[str, Any]] = []
        for n in range(args.buyers):
            is_bot = n >= humans
            account = accounts[n] if not is_bot else accounts[humans + (n - humans) % bot_accounts]
            token = tokens[n]
            number = n if not is_bot else 500_000 + (n - humans) % bot_accounts * args.bot_addresses + (
                n - humans) % args.bot_addresses
            from benchmarks.buyer import BERLIN, source_address

            plan.append({
                "kind": "bot" if is_bot else "human", "number": n, "account": account, "sku": sku,
                "address": source_address(number), "drop_path": drop_path,
                "cookies": {SESSION_COOKIE: token, CSRF_COOKIE: csrf_token(settings.secret_key, token)},
                "arrives": (n * 7919 % args.buyers) / args.buyers * args.spread,
                # Each person ships to their own door; a bot account to one door for all its sessions.
                "shipping": {**BERLIN, "line1": f"Bot street {(n - humans) % bot_accounts}" if is_bot
                             else f"Linden {n}"},
            })
        context = multiprocessing.get_context("spawn")
        done, ready, results, go = context.Value("i", 0), context.Value("i", 0), context.Queue(), context.Event()
        processes = [context.Process(target=_generate, args=(
            host, port, run, plan[g::args.generators], start_at, method, args.limit, results, ready, done, go))
            for g in range(args.generators)]
        for process in processes:
            process.start()
        while ready.value < args.generators:
            time.sleep(0.05)
        server_cpu, services_cpu = base._process_group_cpu([p.pid for p in stack]), base._services_cpu()
        started = time.perf_counter()
        go.set()
        parts = []
        while len(parts) < args.generators:
            with contextlib.suppress(queue.Empty):
                parts.append(results.get(timeout=0.5))
            if len(parts) < args.generators and all(p.exitcode is not None for p in processes) and results.empty():
                raise RuntimeError("a load generator died before it reported (its traceback is above)")
            if not args.json:
                base._bar(done.value, args.buyers, time.perf_counter() - started)
        wall = time.perf_counter() - started
        server_cpu = base._process_group_cpu([p.pid for p in stack]) - server_cpu
        services_cpu = base._services_cpu() - services_cpu
        for process in processes:
            process.join()
        if not args.json:
            print(file=sys.stderr)
        seen = [s for part in parts for s in part["seen"]]
        arrivals = {s["account"]: min(sent for sent, step, *_ in s["log"] if step.startswith("join"))
                    for s in seen if s["kind"] == "human" and any(step.startswith("join") for _, step, *_ in s["log"])}
        audit = _audit(dsn, sku, drop_id, args.units, opens_at, arrivals)
    finally:
        base.stop_stack(stack)
        from benchmarks.wiring import forget_redis_keys

        forget_redis_keys(prefix)
    cores = os.cpu_count() or 1
    human_seen = [s for s in seen if s["kind"] == "human"]
    bot_seen = [s for s in seen if s["kind"] == "bot"]
    checkout = [s["checkout_s"] for s in human_seen if s["checkout_s"] is not None]
    bot_units = {a: audit["per_customer"].get(a, 0) for a in accounts[humans:]}
    return {
        "buyers": args.buyers, "humans": humans, "bots": bots, "bot_accounts": bot_accounts, "units": args.units,
        "limit": args.limit, "workers": args.workers, "seconds": wall, "cpus": cores,
        "humans_told": {k: sum(1 for s in human_seen if s["told"] == k) for k in ("admitted", "sold_out")},
        "humans_untold": sum(1 for s in human_seen if s["told"] not in ("admitted", "sold_out")),
        "human_errors": sorted({s["error"] for s in human_seen if s["error"]})[:5],
        "admitted_refused": {why: sum(1 for s in human_seen if s.get("refused") == why)
                             for why in sorted({str(s.get("refused")) for s in human_seen if s.get("refused")})},
        "bots_refused": {why: sum(1 for s in bot_seen if s.get("refused") == why)
                         for why in sorted({str(s.get("refused")) for s in bot_seen if s.get("refused")})},
        "humans_ordered": sum(1 for s in human_seen if s["order_id"]),
        "admitted_checkout_p50_ms": statistics.median(checkout) * 1000 if checkout else None,
        "admitted_checkout_p99_ms": base._percentile(checkout, 0.99) * 1000 if checkout else None,
        "checkout_step_ms": {step: (statistics.median(v) * 1000, base._percentile(v, 0.99) * 1000)
                             for step, v in base._by_step(s["steps"] for s in human_seen if s.get("steps")).items()},
        "fivexx": sum(s.get("fivexx", 0) for s in seen),
        "bot_sneaks_refused": sum(1 for s in bot_seen if s.get("sneak") in (403, 409)),  # no admission, or not open
        "bot_polls": sum(s["polls"] for s in bot_seen), "bot_throttled": sum(s["throttled"] for s in bot_seen),
        "bot_units_max": max(bot_units.values(), default=0), "bot_units_total": sum(bot_units.values()),
        "human_polls": sum(s["polls"] for s in human_seen),
        "requests": sum(s.get("requests", 0) for s in seen),
        "generator_cpu_share": sum(p["cpu_seconds"] for p in parts) / (wall * cores),
        "server_cpu_share": server_cpu / (wall * cores), "services_cpu_share": services_cpu / (wall * cores),
        **{k: v for k, v in audit.items() if k != "per_customer"},
        "timeline": timeline(seen, opens_at.timestamp()),
        "listen_queue": _listen_queue(settings.listen_backlog),
    }


def _listen_queue(backlog: int) -> int:
    """The shop's listen queue: its ``listen_backlog``, capped by the kernel's ``net.core.somaxconn``. At a
    drop's opening a queue too short for the connections of one second drops the rest, and each waits for
    its client's SYN retry (1 s, 3 s, 7 s … later): it loses its place in the line."""
    try:
        with open("/proc/sys/net/core/somaxconn") as f:
            return min(backlog, int(f.read()))
    except (OSError, ValueError):
        return backlog


def correct(f: dict[str, Any]) -> bool:
    return (f["orders"] > 0 and f["units_sold"] + f["units_held"] == f["units"] and f["oversold"] == 0
            and f["fivexx"] == 0
            and f["bot_units_max"] <= f["limit"] and f["humans_untold"] == 0 and f["ledger_equals_balance"])


def _print(f: dict[str, Any], timeline_wanted: bool = False) -> None:
    print(f"drop through its waiting room: {f['buyers']} buyers ({f['humans']} humans, {f['bots']} bot sessions "
          f"on {f['bot_accounts']} accounts), {f['units']} units, limit {f['limit']}, "
          f"`emporium serve --workers {f['workers']}`, {f['cpus']} CPUs")
    rows = [
        ("sale over in", f"{f['seconds']:.1f} s, {f['requests']} requests"),
        ("orders / units sold / oversold", f"{f['orders']} / {f['units_sold']} / {f['oversold']}  "
                                           f"(held by unfinished checkouts: {f['units_held']})"),
        ("humans told admitted / sold out", f"{f['humans_told']['admitted']} / {f['humans_told']['sold_out']} "
                                            f"(untold: {f['humans_untold']}; ordered: {f['humans_ordered']})"),
        ("admitted humans' checkout p50 / p99",
         "n/a" if f["admitted_checkout_p99_ms"] is None
         else f"{f['admitted_checkout_p50_ms']:.0f} ms / {f['admitted_checkout_p99_ms']:.0f} ms"),
        ("admitted humans, then refused", json.dumps(f["admitted_refused"]) or "none"),
        ("admitted bots, then refused", json.dumps(f["bots_refused"]) or "none"),
        ("admitted humans' steps, p50 / p99", ", ".join(
            f"{step} {p50:.0f} / {p99:.0f} ms" for step, (p50, p99) in f["checkout_step_ms"].items())),
        ("5xx answers seen", str(f["fivexx"])),
        ("bots: units per account (max) / total", f"{f['bot_units_max']} / {f['bot_units_total']} "
                                                  f"(limit {f['limit']})"),
        ("bots: forged cart adds refused", str(f["bot_sneaks_refused"])),
        ("bots: questions / throttled (429)", f"{f['bot_polls']} / {f['bot_throttled']}"),
        ("humans: questions to the room", str(f["human_polls"])),
        ("tickets issued / early / admitted", f"{f['tickets_issued']} / {f['tickets_early']} / "
                                              f"{f['tickets_admitted']}"),
        ("fairness after opening (Kendall tau)",
         "n/a" if f["kendall_tau"] is None else f"{f['kendall_tau']:.3f} over {f['fair_sample']} humans "
                                                 "(first join sent vs place in the room)"),
        ("listen queue (listen_backlog, somaxconn)", f"{f['listen_queue']}"
         + ("" if f["listen_queue"] >= f["buyers"] / 2 else "  (short for this crowd: raise net.core.somaxconn)")),
        ("ledger = balance", str(f["ledger_equals_balance"])),
        ("CPU: load generator / shop / PG+Redis", f"{f['generator_cpu_share']:.0%} / {f['server_cpu_share']:.0%} / "
                                                  f"{f['services_cpu_share']:.0%} of the machine"),
    ]
    if f["human_errors"]:
        rows.append(("humans' errors (first kinds)", "; ".join(f["human_errors"])))
    for label, value in rows:
        print(f"  {label:<40} {value}")
    if timeline_wanted:
        print("  from opening  room asks/s (429/s)  checkout steps/s  step p50 / max ms  server p50 ms")
        for row in f["timeline"]:
            if row["from_s"] > 120:
                break
            steps = ("" if row["step_p50_ms"] is None
                     else f"{row['step_p50_ms']:>8.0f} / {row['step_max_ms']:<8.0f}  {row['server_p50_ms']:>8.1f}")
            print(f"  {row['from_s']:>+10.0f} s  {row['queue_per_s']:>8.0f} ({row['queue_429_per_s']:>6.0f})"
                  f"  {row['steps_per_s']:>14.1f}   {steps}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="emporium bench flash-sale --http --waiting-room")
    parser.add_argument("--waiting-room", action="store_true", required=True)
    parser.add_argument("--http", action="store_true")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--units", type=int, default=500)
    parser.add_argument("--buyers", type=int, default=20000)
    parser.add_argument("--bots", type=float, default=0.2, help="share of the buyers that are bot sessions")
    parser.add_argument("--bot-sessions", type=int, default=20, help="sessions per bot account")
    parser.add_argument("--bot-addresses", type=int, default=3, help="source addresses per bot account")
    parser.add_argument("--limit", type=int, default=2, help="units one buyer may buy")
    parser.add_argument("--rate", type=float, default=None, help="admissions a second (default: the shop's capacity)")
    parser.add_argument("--lead", type=float, default=5.0, help="seconds from the first arrival to the opening")
    parser.add_argument("--spread", type=float, default=10.0, help="seconds over which the buyers arrive")
    parser.add_argument("--generators", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--timeline", action="store_true", help="print what was answered, second by second")
    parser.add_argument("--port", type=int, default=PORT, help="the shop's port (a second run beside a test suite's)")
    parser.add_argument("--database", default="emporium_bench_drop", help="the bench database (recreated)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    figures = run_drop(args)
    print(json.dumps(figures, indent=2) if args.json else "", end="\n" if args.json else "")
    if not args.json:
        _print(figures, args.timeline)
    return 0 if correct(figures) else 1
