"""What the purge adapters send, as a server receives it: Fastly's purge API (POST, Fastly-Key, soft) and
the edge's (PURGE with the token to every edge), keys in batches; a refused purge raises so the delivery
retries. The edge's own handling of a purge is tested against a real Varnish in tests/e2e/test_edge_cache.py."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from adapters.http.cdn import FastlyPurger, VarnishPurger


class Recorder(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.seen: list[tuple[str, str, dict[str, str]]] = []
        self.status = 200

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    server: Recorder

    def _record(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self.server.seen.append((self.command, self.path, {k.lower(): v for k, v in self.headers.items()}))
        self.send_response(self.server.status)
        self.send_header("content-length", "0")
        self.end_headers()

    def do_POST(self) -> None:
        self._record()

    def do_PURGE(self) -> None:
        self._record()

    def log_message(self, *_: object) -> None:
        return None


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    server = Recorder()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


async def test_fastly_gets_a_soft_purge_per_batch_with_its_api_key(recorder: Recorder) -> None:
    keys = [f"product-{n:030d}" for n in range(300)]
    await FastlyPurger(f"{recorder.url}/service/abc/purge", token="fk").purge(keys)
    assert {(method, path) for method, path, _ in recorder.seen} == {("POST", "/service/abc/purge")}
    assert all(h["fastly-key"] == "fk" and h["fastly-soft-purge"] == "1" for _, _, h in recorder.seen)
    assert [k for _, _, h in recorder.seen for k in h["surrogate-key"].split()] == keys
    assert len(recorder.seen) > 1


async def test_every_edge_gets_the_purge_with_the_token(recorder: Recorder) -> None:
    await VarnishPurger([recorder.url, recorder.url + "/second"], token="t0k").purge(["product-1", "products"])
    assert [(m, p, h["surrogate-key"], h["authorization"]) for m, p, h in recorder.seen] == [
        ("PURGE", "/", "product-1 products", "Bearer t0k"),
        ("PURGE", "/second", "product-1 products", "Bearer t0k"),
    ]


async def test_a_refused_purge_raises_so_that_the_delivery_is_retried(recorder: Recorder) -> None:
    recorder.status = 401
    with pytest.raises(httpx.HTTPStatusError):
        await VarnishPurger([recorder.url], token="wrong").purge(["products"])
    with pytest.raises(httpx.HTTPStatusError):
        await FastlyPurger(recorder.url, token="wrong").purge(["products"])
