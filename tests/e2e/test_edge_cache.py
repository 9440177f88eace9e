"""The edge cache in front of the real API: `emporium edge` (Varnish with deploy/varnish/emporium.vcl),
`emporium serve`, the worker and the relay as real processes, the catalog driven over HTTP through it.

A stampede on an expired product reaches the API once, whether a purge or its age expired it; a price change
made through the admin API is purged by the worker and shown by the first request after the purge, while the
category page of an unrelated product stays cached; with the API stopped, cached pages are still served and others get a
503 problem document; a cart is never cached and no shopper's cookie reaches another.

Kept in its own module so no other relay runs meanwhile (relays share the outbox). The last test stops the
API of the module's stack.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.http.cdn import VarnishPurger
from adapters.postgres import tables as t
from adapters.postgres.unit_of_work import PostgresUnitOfWork
from adapters.system.clock import UuidIdGenerator
from application.catalog import commands as c
from application.inventory import commands as inv
from domain.staff.roles import Role
from entrypoints.cli.edge import INSTALL
from tests.support.categories import add_categories
from tests.support.delivery import bus_for
from tests.support.http_app import token_for
from tests.support.network import free_port
from tests.support.processes import (
    RELAY_READY,
    WORKER_READY,
    log_tail,
    relay_process,
    service_env,
    skip_outbox_backlog,
    start,
    stop,
    worker_process,
)
from tests.support.waiting import GENEROUS, eventually, wait_until

pytestmark = pytest.mark.slow
TOKEN = "edge-test-purge-token"
STAMPEDE = 1_000


@dataclass
class Edge:
    url: str
    port: int
    api: str
    api_proc: object
    logs: Path


def _varnishd() -> None:
    if shutil.which("varnishd") is None and not Path("/usr/sbin/varnishd").exists():
        pytest.fail(f"varnishd is not installed; `{INSTALL}` (.ci/run does)", pytrace=False)


@pytest.fixture(scope="module")
def edge(database_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Edge]:
    _varnishd()
    api_port, edge_port, admin_port = free_port(), free_port(), free_port()
    logs = Path(tmp_path_factory.mktemp("edge"))
    env = service_env(database_url, redis_url, f"emporium-edge-{api_port}", EMPORIUM_PORT=str(api_port),
                      EMPORIUM_ENVIRONMENT="development",  # /metrics open: the API's own request count
                      EMPORIUM_CDN_PURGE_URL=f"http://127.0.0.1:{edge_port}", EMPORIUM_CDN_PURGE_TOKEN=TOKEN,
                      EMPORIUM_EDGE_PORT=str(edge_port), EMPORIUM_HOME=str(logs))
    print(f"outbox rows of earlier tests left unpublished: {skip_outbox_backlog(database_url)}")
    cli = [sys.executable, "-m", "entrypoints.cli"]
    api = start([*cli, "serve"], env, logs / "api.log")
    procs = [api, worker_process(env, logs / "worker.log"), relay_process(env, logs / "relay.log"),
             start([*cli, "edge", "--admin-port", str(admin_port)], env, logs / "edge.log")]
    try:
        base = f"http://127.0.0.1:{edge_port}"

        def up() -> bool:
            for proc, log in zip(procs, ("api", "worker", "relay", "edge"), strict=True):
                assert proc.poll() is None, log_tail(logs / f"{log}.log")
            try:
                return httpx.get(f"{base}/.edge/origin", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        wait_until(up, GENEROUS, what="the edge to answer with a healthy API behind it")
        wait_until(lambda: RELAY_READY in (logs / "relay.log").read_text(errors="replace"), GENEROUS,
                   what="the relay")
        wait_until(lambda: WORKER_READY in (logs / "worker.log").read_text(errors="replace"), GENEROUS,
                   what="the worker")
        yield Edge(base, edge_port, f"http://127.0.0.1:{api_port}", api, logs)
    finally:
        for proc in reversed(procs):
            stop(proc)


async def _product(engine: AsyncEngine, name: str, sku: str, category: str) -> tuple[str, str]:
    """An active product in a category of its own; (id, slug)."""
    await add_categories(lambda: PostgresUnitOfWork(engine, UuidIdGenerator()), category)
    bus = bus_for(engine)
    product_id = await bus.handle(c.CreateProduct(name=name, sku=sku, price_amount=1000, currency="EUR"))
    await bus.handle(c.UpdateProduct(product_id=product_id, category_ids=[category]))
    async with engine.connect() as conn:
        slug = await conn.scalar(select(t.products.c.slug).where(t.products.c.id == product_id))
    return product_id, str(slug)


async def _get(url: str, **headers: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=30) as http:
        return await http.get(url, headers=headers)


async def _status(url: str) -> int:
    try:
        return (await _get(url)).status_code
    except httpx.TransportError:
        return 0


async def _ok(url: str) -> bool:
    return await _status(url) == 200


async def _origin_count(edge: Edge, route: str) -> float:
    """GETs of ``route`` the API has answered, by its own /metrics (one API process)."""
    text = (await _get(f"{edge.api}/metrics")).text
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("emporium_http_requests_total{") and 'method="GET"' in line
               and f'route="{route}"' in line)


async def _get_all_at_once(port: int, path: str, count: int) -> list[int]:
    """``count`` GETs of ``path`` on as many connections, opened first and then sent together; the statuses."""
    connections = await asyncio.gather(*(asyncio.open_connection("127.0.0.1", port) for _ in range(count)))
    request = f"GET {path} HTTP/1.1\r\nHost: shop.test\r\nConnection: close\r\n\r\n".encode()
    for _, writer in connections:
        writer.write(request)

    async def status(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> int:
        await writer.drain()
        answer = await reader.read()
        writer.close()
        return int(answer.split(b" ", 2)[1])

    return await asyncio.gather(*(status(r, w) for r, w in connections))


async def _cached(edge: Edge, path: str) -> httpx.Response:
    """GET through the edge until it answers from its cache (the first may be a miss); that answer."""
    for _ in range(3):
        response = await _get(edge.url + path)
        assert response.status_code == 200, response.text
        if response.headers["x-cache"] == "HIT":
            return response
    raise AssertionError(f"{path} is not cached at the edge: {response.headers}")


async def _purge(edge: Edge, *keys: str) -> None:
    await VarnishPurger([edge.url], token=TOKEN).purge(list(keys))


async def test_a_stampede_on_an_expired_product_reaches_the_api_once(edge: Edge, engine: AsyncEngine, unique) -> None:
    product_id, slug = await _product(engine, f"Stampede Boot {unique}", f"ST-{unique}", f"stampede-{unique}")
    path = f"/store/products/{slug}"
    await eventually(lambda: _ok(edge.url + path), what="the product's document")  # a 404 is not cached
    await _cached(edge, path)
    await _purge(edge, f"product-{product_id}")  # the cached copy has expired
    before = await _origin_count(edge, "/store/products/{slug}")
    started = time.monotonic()
    statuses = await _get_all_at_once(edge.port, path, STAMPEDE)
    print(f"{STAMPEDE} concurrent GETs answered in {time.monotonic() - started:.2f} s")
    assert statuses == [200] * STAMPEDE
    assert await _origin_count(edge, "/store/products/{slug}") - before == 1


async def test_a_stampede_on_a_copy_that_aged_out_reaches_the_api_once(edge: Edge, engine: AsyncEngine, unique) -> None:
    """A copy that expired by age, not by a purge: a drop opening in a few seconds caps the product document's
    life at its opening, with no stale use (the page changes then)."""
    sku = f"AG-{unique}"
    _, slug = await _product(engine, f"Aged Anorak {unique}", sku, f"anoraks-{unique}")
    path = f"/store/products/{slug}"
    await eventually(lambda: _ok(edge.url + path), what="the product's document")
    mark = await _outbox_mark(engine)
    opens = datetime.now(UTC) + timedelta(seconds=12)  # room for a slow purge
    staff = {"Authorization": f"Bearer {await token_for(engine, Role.MERCHANDISER)}"}
    async with httpx.AsyncClient(timeout=30) as http:
        drop = await http.post(f"{edge.api}/admin/drops", headers=staff, json={
            "name": f"Aged {unique}", "skus": [sku], "opens_at": opens.isoformat(), "time_zone": "UTC"})
    assert drop.status_code == 201, drop.text
    await eventually(lambda: _handled(engine, "drops.drop_scheduled.v1", drop.json()["id"], "cdn_purge_drops", mark),
                     interval=0.01, what="the drop's purge")
    cached = await _cached(edge, path)
    control = cached.headers["cache-control"]
    assert "stale-while-revalidate=0" in control, control
    left = int(control.split("s-maxage=")[1].split(",")[0]) - int(cached.headers.get("age", "0"))
    assert 0 < left <= 12, control
    # The copy's own age limit, read from its headers (whole seconds, rounded down), has passed, and so has the
    # opening it stands for: a request a moment before that would be answered as uncacheable (0 s left).
    await asyncio.sleep(max(left, (opens - datetime.now(UTC)).total_seconds()) + 0.5)
    before = await _origin_count(edge, "/store/products/{slug}")
    statuses = await _get_all_at_once(edge.port, path, STAMPEDE)
    assert statuses == [200] * STAMPEDE
    assert await _origin_count(edge, "/store/products/{slug}") - before == 1


async def _outbox_mark(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.coalesce(func.max(t.outbox.c.seq), 0))) or 0)


async def _handled(engine: AsyncEngine, topic: str, aggregate_id: str, consumer: str, after: int) -> bool:
    """``consumer`` has handled an event of ``topic`` about ``aggregate_id`` recorded after outbox row ``after``."""
    async with engine.connect() as conn:
        done = await conn.scalar(
            select(func.count()).select_from(t.outbox.join(
                t.processed_events, t.processed_events.c.event_id == t.outbox.c.id))
            .where(t.outbox.c.seq > after, t.outbox.c.topic == topic, t.outbox.c.aggregate_id == aggregate_id,
                   t.processed_events.c.consumer == consumer))
    return bool(done)


async def _purged(engine: AsyncEngine, product_id: str, after: int) -> bool:
    """The worker has purged the edge for a document change of the product recorded after outbox row ``after``."""
    return await _handled(engine, "catalog.document_changed.v1", product_id, "cdn_purge", after)


async def test_a_price_change_is_shown_once_purged_and_only_the_pages_showing_the_product_go(
    edge: Edge, engine: AsyncEngine, unique
) -> None:
    changed, changed_slug = await _product(engine, f"Purged Parka {unique}", f"PP-{unique}", f"parkas-{unique}")
    other, other_slug = await _product(engine, f"Kept Kettle {unique}", f"KK-{unique}", f"kettles-{unique}")
    pages = {
        "product": (f"/store/products/{changed_slug}", changed),
        "its category": (f"/store/products?category=parkas-{unique}", changed),
        "other product": (f"/store/products/{other_slug}", other),
        "other category": (f"/store/products?category=kettles-{unique}", other),
    }

    async def shows(path: str, product_id: str) -> bool:
        return product_id in (await _get(edge.url + path)).text

    for path, product_id in pages.values():
        # A listing fetched before the projection caught up is cached empty; its category's key purges it.
        await eventually(lambda p=path, i=product_id: shows(p, i), what=f"{path} to show its product")
        await _cached(edge, path)
    tracked = await _get(f"{edge.url}{pages['other category'][0]}&utm_source=news&gclid=x")
    assert tracked.headers["x-cache"] == "HIT"  # tracking parameters do not split the cache

    mark = await _outbox_mark(engine)
    async with PostgresUnitOfWork(engine, UuidIdGenerator()) as tx:
        price_list = await tx.price_lists.default_for("EUR")
    staff = {"Authorization": f"Bearer {await token_for(engine, Role.MERCHANDISER)}"}
    changed_at = time.monotonic()
    async with httpx.AsyncClient(timeout=30) as http:
        response = await http.put(f"{edge.url}/admin/price-lists/{price_list.id}/prices", headers=staff,
                                  json={"prices": [{"sku": f"PP-{unique}", "amount": 1234}]})
    assert response.status_code == 200, response.text
    await eventually(lambda: _purged(engine, changed, mark), interval=0.01, what="the worker to purge the edge")
    print(f"price change -> purged at the edge: {time.monotonic() - changed_at:.2f} s")

    page = await _get(edge.url + pages["product"][0])
    assert page.headers["x-cache"] == "MISS"
    assert [p["amount"] for p in page.json()["variants"][0]["prices"]] == [1234]
    listing = await _get(edge.url + pages["its category"][0])
    assert listing.headers["x-cache"] == "MISS"
    assert listing.json()["items"][0]["price_from"][0]["amount"] == 1234
    for name in ("other product", "other category"):
        kept = await _get(edge.url + pages[name][0])
        assert kept.headers["x-cache"] == "HIT", name
        assert other in kept.text


async def test_purges_need_the_token_and_a_purger_address(edge: Edge) -> None:
    keys = {"Surrogate-Key": "products"}
    async with httpx.AsyncClient(timeout=30) as http:
        assert (await http.request("PURGE", edge.url, headers=keys)).status_code == 401
        wrong = await http.request("PURGE", edge.url, headers={**keys, "Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        assert wrong.headers["content-type"] == "application/problem+json"
        bare = await http.request("PURGE", edge.url, headers={"Authorization": f"Bearer {TOKEN}"})
        assert bare.status_code == 400
    async with httpx.AsyncClient(timeout=30, transport=httpx.AsyncHTTPTransport(local_address="127.0.0.2")) as far:
        refused = await far.request("PURGE", edge.url, headers={**keys, "Authorization": f"Bearer {TOKEN}"})
        assert refused.status_code == 403


async def test_carts_are_never_cached_and_no_shoppers_cookie_reaches_another(
    edge: Edge, engine: AsyncEngine, unique
) -> None:
    sku = f"CC-{unique}"
    _, slug = await _product(engine, f"Cookie Cap {unique}", sku, f"caps-{unique}")
    bus = bus_for(engine)
    await bus.handle(inv.AddLocation(id=f"edge-{unique}", name="Edge"))
    await bus.handle(inv.ReceiveStock(sku=sku, location_id=f"edge-{unique}", quantity=10, actor="test"))
    await eventually(lambda: _ok(f"{edge.url}/store/products/{slug}"), what="the product's document")
    sessions: list[dict[str, str]] = []
    for n in (1, 2):
        async with httpx.AsyncClient(timeout=30) as http:
            added = await http.post(f"{edge.url}/store/cart/lines", json={"sku": sku, "quantity": n},
                                    headers={"Idempotency-Key": f"edge-{unique}-{n}"})
        assert added.status_code == 201, added.text
        assert added.headers["x-cache"] == "PASS"
        cookies = dict(added.cookies.items())  # a cart of its own
        assert cookies
        sessions.append(cookies)
        # The catalog answer a shopper with cookies gets is the shared copy, and it sets no cookie.
        page = await _get(f"{edge.url}/store/products/{slug}", Cookie=_cookie_header(cookies))
        assert "set-cookie" not in page.headers
        if n == 2:
            assert page.headers["x-cache"] == "HIT"
    assert sessions[0] != sessions[1]
    for n, (mine, theirs) in enumerate((sessions, sessions[::-1]), start=1):
        for _ in range(2):  # a second read is no more cached than the first
            cart = await _get(f"{edge.url}/store/cart", Cookie=_cookie_header(mine))
            assert cart.headers["x-cache"] == "PASS"
            assert [line["quantity"] for line in cart.json()["lines"]] == [n]
            assert not any(value in cart.headers.get("set-cookie", "") for value in theirs.values())


def _cookie_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


async def test_with_the_api_down_cached_pages_are_still_served_and_others_get_a_503_page(
    edge: Edge, engine: AsyncEngine, unique
) -> None:
    kept_id, kept = await _product(engine, f"Grace Glove {unique}", f"GG-{unique}", f"gloves-{unique}")
    await eventually(lambda: _ok(f"{edge.url}/store/products/{kept}"), what="the product's document")
    await _cached(edge, f"/store/products/{kept}")
    stop(edge.api_proc)  # type: ignore[arg-type]
    await eventually(lambda: _down(edge), what="the edge's probe to see the API down")
    await _purge(edge, f"product-{kept_id}")  # expired, and the API down: the stale copy is served
    stale = await _get(f"{edge.url}/store/products/{kept}")
    assert stale.status_code == 200
    assert stale.json()["id"] == kept_id
    missing = await _get(f"{edge.url}/store/products/never-cached-{unique}")
    assert missing.status_code == 503
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.headers["retry-after"]
    assert missing.json()["title"] == "The shop is unavailable"


async def _down(edge: Edge) -> bool:
    return await _status(f"{edge.url}/.edge/origin") == 503
