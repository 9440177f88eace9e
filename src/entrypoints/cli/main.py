"""``emporium``: serve, worker, relay, run (all three), migrate, seed, admin."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

from entrypoints.cli.errors import explain
from entrypoints.cli.processes import worker_command, yield_cpu
from entrypoints.settings import Settings, get_settings, refuse_insecure

PROJECT_DIR = Path(os.environ.get("EMPORIUM_HOME", Path.cwd()))


def uvicorn_options(settings: Settings, workers: int = 1) -> dict[str, Any]:
    """How ``serve`` runs uvicorn. Our logging only (no uvicorn config, no access log: the app logs
    requests). ``X-Forwarded-For``/``-Proto`` count only from ``EMPORIUM_TRUSTED_PROXIES`` (uvicorn
    would otherwise trust them from 127.0.0.1, or whatever ``FORWARDED_ALLOW_IPS`` says)."""
    from entrypoints.http.arrival import ArrivalStampingProtocol
    proxies = [p.strip() for p in settings.trusted_proxies.split(",") if p.strip()]
    return {
        "http": ArrivalStampingProtocol,  # stamps when each request arrived (a drop's room dates joins by it)
        "backlog": settings.listen_backlog,
        "factory": True, "host": settings.host, "port": settings.port, "workers": workers, "log_config": None,
        "access_log": False, "timeout_graceful_shutdown": 5, "proxy_headers": bool(proxies),
        "forwarded_allow_ips": proxies or [],
    }


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from entrypoints.logging import configure_logging

    os.environ.setdefault("PGAPPNAME", "emporium-api")  # who is who in pg_stat_activity and the statement log
    settings = get_settings()
    refuse_insecure(settings)  # before uvicorn starts: one readable line, not a failed worker
    configure_logging(settings.log_level, json_lines=settings.log_json)
    uvicorn.run("entrypoints.http.app:create_app", **uvicorn_options(settings, args.workers))
    return 0


def _worker(args: argparse.Namespace) -> int:
    os.environ.setdefault("PGAPPNAME", "emporium-worker")
    yield_cpu(get_settings().background_nice)  # kept across exec, by every process Dramatiq forks
    os.execv(sys.executable, worker_command(args.processes, args.threads, schedule=not args.no_schedule))  # noqa: S606


def _relay(_: argparse.Namespace) -> int:
    from entrypoints.container import Container
    from entrypoints.logging import configure_logging
    from entrypoints.worker.relay import run_relay

    os.environ.setdefault("PGAPPNAME", "emporium-relay")
    settings = get_settings()
    yield_cpu(settings.background_nice)
    configure_logging(settings.log_level, json_lines=settings.log_json)
    asyncio.run(run_relay(Container()))
    return 0


def _migrate(_: argparse.Namespace) -> int:
    from adapters.postgres.migrate import ensure_database, upgrade

    url = get_settings().database_url
    ensure_database(url)
    upgrade(url)
    print("database migrated")
    return 0


def _seed(args: argparse.Namespace) -> int:
    from entrypoints.cli.seed import seed_demo

    asyncio.run(seed_demo(products=args.products))
    return 0


def _create_token(args: argparse.Namespace) -> int:
    from application.staff.handlers import IssueStaffToken
    from domain.staff.roles import Role
    from entrypoints.container import Container, close

    async def issue() -> str:
        container = Container()
        try:
            issued = await container.bus().handle(
                IssueStaffToken(name=args.name, role=Role(args.role), days=args.days))
            return issued.token
        finally:
            await close(container)

    print(asyncio.run(issue()))
    return 0


def _list_tokens(args: argparse.Namespace) -> int:
    from application.staff.handlers import ListStaffTokens
    from entrypoints.container import Container, close

    async def listed() -> list[str]:
        container = Container()
        try:
            now = container.clock().now()
            return [
                f"{t.id}  {t.role.value:<12}  {t.name:<20}  created {t.created_at:%Y-%m-%d}  "
                + (f"revoked {t.revoked_at:%Y-%m-%d}" if t.revoked_at else
                   f"expires {t.expires_at:%Y-%m-%d}" + ("" if t.valid_at(now) else " (expired)"))
                for t in await container.bus().handle(ListStaffTokens())
            ]
        finally:
            await close(container)

    print("\n".join(asyncio.run(listed())) or "no staff tokens")
    return 0


def _revoke_token(args: argparse.Namespace) -> int:
    from application.staff.handlers import RevokeStaffToken
    from entrypoints.container import Container, close

    async def revoke() -> None:
        container = Container()
        try:
            await container.bus().handle(RevokeStaffToken(token_id=args.token_id))
        finally:
            await close(container)

    asyncio.run(revoke())
    print(f"revoked {args.token_id}")
    return 0


def _development_mode() -> None:
    """``run`` and ``bench`` are for a development machine: development mode unless the environment
    says otherwise (the processes they start inherit it). ``serve`` alone defaults to production."""
    if not os.environ.get("EMPORIUM_ENVIRONMENT"):
        os.environ["EMPORIUM_ENVIRONMENT"] = "development"
    get_settings.cache_clear()


def _bench(args: argparse.Namespace) -> int:
    import importlib

    _development_mode()
    # Benchmarks live under benchmarks/ in the project (not installed); run them from there.
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
    module = importlib.import_module(f"benchmarks.{args.name.replace('-', '_')}")
    return int(module.main(args.rest))


def _rebuild(_: argparse.Namespace) -> int:
    from application.catalog.projection import rebuild_catalog
    from application.orders.projections import rebuild_order_views
    from entrypoints.container import Container, close

    def progress(done: int, total: int) -> None:
        if done == total or done % 500 == 0:
            print(f"\rrebuilt {done}/{total} product documents", end="", flush=True)

    async def rebuild() -> tuple[int, int]:
        container = Container()
        try:
            products = await rebuild_catalog(uow=container.uow_factory(), progress=progress)
            orders = await rebuild_order_views(uow=container.uow_factory(), shop=container.shop())
            return products, orders
        finally:
            await close(container)

    products, orders = asyncio.run(rebuild())
    print(f"\nrebuilt {products} product documents and the read models of {orders} orders")
    return 0


def _reindex(args: argparse.Namespace) -> int:
    from application.search.indexer import reindex
    from application.search.merchandising import sync_synonyms
    from entrypoints.cli.seed import progress_bar
    from entrypoints.container import Container, close

    started = time.monotonic()
    progress = progress_bar("indexed")

    async def rebuild() -> int:
        container = Container()
        try:
            index = container.search_index()
            await sync_synonyms(uow=container.uow_factory(), index=index)
            return await reindex(uow=container.uow_factory(), index=index, progress=progress,
                                 page_size=args.batch, clear=args.clear,
                                 language=get_settings().search_language)
        finally:
            await close(container)

    count = asyncio.run(rebuild())
    print(f"indexed {count} products into {get_settings().search_backend} in {time.monotonic() - started:.1f}s")
    return 0


def _run(args: argparse.Namespace) -> int:
    from entrypoints.cli.supervisor import run_all

    _development_mode()
    return run_all(PROJECT_DIR, with_seed=not args.no_seed, with_edge=args.edge)


def _edge(args: argparse.Namespace) -> int:
    from entrypoints.cli.edge import serve_edge

    return serve_edge(PROJECT_DIR, get_settings(), port=args.port, backend=args.backend, admin_port=args.admin_port)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="emporium", description="Emporium commerce backend")
    parser.add_argument("--debug", action="store_true", help="show the full traceback when a command fails")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the HTTP API")
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(func=_serve)

    worker = sub.add_parser("worker", help="run the Dramatiq worker (outbox consumers)")
    worker.add_argument("--processes", type=int, default=1)
    worker.add_argument("--threads", type=int, default=4)
    worker.add_argument("--no-schedule", action="store_true", help="do not run the periodic jobs here")
    worker.set_defaults(func=_worker)

    sub.add_parser("relay", help="run the outbox relay").set_defaults(func=_relay)
    edge_cmd = sub.add_parser("edge", help="run Varnish in front of the API (deploy/varnish/emporium.vcl)")
    edge_cmd.add_argument("--port", type=int, default=0, help="where it listens (default: EMPORIUM_EDGE_PORT, 6081)")
    edge_cmd.add_argument("--backend", default="", help="the API as host:port (default: EMPORIUM_HOST:EMPORIUM_PORT)")
    edge_cmd.add_argument("--admin-port", type=int, default=0, help="its management interface (default: --port + 1)")
    edge_cmd.set_defaults(func=_edge)
    sub.add_parser("migrate", help="create the database if needed and apply migrations").set_defaults(
        func=_migrate
    )

    seed = sub.add_parser("seed", help="load demo data (idempotent)")
    seed.add_argument("--products", type=int, default=0, help="also generate N random products")
    seed.set_defaults(func=_seed)

    run = sub.add_parser("run", help="find services, migrate, seed, start API + worker + relay")
    run.add_argument("--no-seed", action="store_true")
    run.add_argument("--edge", action="store_true", help="also run Varnish in front of the API (`emporium edge`)")
    run.set_defaults(func=_run)

    projections = sub.add_parser("projections", help="read models")
    projections_sub = projections.add_subparsers(dest="projections_command", required=True)
    projections_sub.add_parser(
        "rebuild", help="rebuild catalog documents and order read models from the write side",
    ).set_defaults(func=_rebuild)

    reindex = sub.add_parser("reindex", help="rebuild the search index from the catalog (with a progress bar)")
    reindex.add_argument("--batch", type=int, default=1000, help="products per batch")
    reindex.add_argument("--clear", action="store_true",
                         help="empty the index first (faster; search finds less until the rebuild ends)")
    reindex.set_defaults(func=_reindex)

    bench = sub.add_parser("bench", help="run a benchmark under benchmarks/ and print its figures")
    bench.add_argument("name", choices=["flash-sale", "catalog-get", "search", "auth-flood", "growth", "catch-up"])
    bench.add_argument("rest", nargs=argparse.REMAINDER)
    bench.set_defaults(func=_bench)

    admin = sub.add_parser("admin", help="staff administration")
    admin_sub = admin.add_subparsers(dest="admin_command", required=True)
    token = admin_sub.add_parser("create-token", help="issue a staff bearer token and print it")
    token.add_argument("--role", required=True, choices=["owner", "merchandiser", "fulfilment", "support"])
    token.add_argument("--name", default="cli")
    token.add_argument("--days", type=int, default=90, help="days until the token expires (1-365, default 90)")
    token.set_defaults(func=_create_token)
    listing = admin_sub.add_parser("list-tokens", help="list staff tokens: id, role, name, expiry (never the secret)")
    listing.set_defaults(func=_list_tokens)
    revoking = admin_sub.add_parser("revoke-token", help="revoke a staff token at once")
    revoking.add_argument("token_id")
    revoking.set_defaults(func=_revoke_token)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.debug:
        return int(args.func(args) or 0)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # noqa: BLE001 - the one place every failure becomes one readable line
        # The command without its options: "emporium admin create-token: …".
        words = [args.command, getattr(args, "admin_command", None) or getattr(args, "projections_command", None)]
        print(f"emporium {' '.join(w for w in words if w)}: {explain(error)}", file=sys.stderr)
        return 1


__all__ = ["main"]
