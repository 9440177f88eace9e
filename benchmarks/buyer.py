"""One buyer on the storefront, as a storefront would drive it: a keep-alive HTTP/1.1 connection from
an address of its own, a cookie jar of its own, an Idempotency-Key on every unsafe call and retries
with the same key on a dropped connection, a 5xx or a "try again" answer.

The client is a few lines over asyncio streams rather than httpx: the load generator shares two
cores with the shop it measures, and httpx spends about ten times the CPU per request. It speaks
only what our server answers (Content-Length or chunked bodies).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

RETRIABLE = {500, 502, 503, 504}
TRIES = 6
BERLIN = {
    "name": "Ada Lovelace",
    "line1": "Unter den Linden 1",
    "city": "Berlin",
    "postal_code": "10117",
    "country": "DE",
}


class Dropped(Exception):
    """The connection closed before a whole answer came back."""


@dataclass(frozen=True)
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def problem_type(self) -> str:
        try:
            body = self.json()
        except ValueError:
            return ""
        return str(body.get("type", "")).rsplit("/", 1)[-1] if isinstance(body, dict) else ""


class Connection:
    def __init__(self, host: str, port: int, local_address: str) -> None:
        self.host, self.port, self.local_address = host, port, local_address
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.reader = self.writer = None

    async def request(self, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> Answer:
        if self.writer is not None and self.writer.is_closing():  # the server closed it (or died) since
            self.reader = self.writer = None
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(
                self.host, self.port, local_addr=(self.local_address, 0)
            )
        assert self.reader is not None
        head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", f"Content-Length: {len(body)}"]
        head += [f"{name}: {value}" for name, value in headers.items()]
        try:
            self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
            status_line = await self.reader.readline()
            if not status_line:
                raise Dropped("closed")
            status = int(status_line.split(b" ", 2)[1])
            answer_headers: list[tuple[str, str]] = []
            length, chunked, close = 0, False, False
            while True:
                line = await self.reader.readline()
                if line in (b"\r\n", b""):
                    break
                name, _, value = line.decode("latin-1").partition(":")
                name, value = name.strip().lower(), value.strip()
                answer_headers.append((name, value))
                if name == "content-length":
                    length = int(value)
                elif name == "transfer-encoding" and "chunked" in value.lower():
                    chunked = True
                elif name == "connection" and value.lower() == "close":
                    close = True
            if chunked:
                parts = []
                while size := int((await self.reader.readline()).split(b";")[0], 16):
                    parts.append(await self.reader.readexactly(size))
                    await self.reader.readline()
                await self.reader.readline()
                payload = b"".join(parts)
            else:
                payload = await self.reader.readexactly(length) if length else b""
        except (asyncio.IncompleteReadError, ConnectionError, ValueError, IndexError, RuntimeError) as dropped:
            # RuntimeError: uvloop's answer to a write on a transport the server has closed meanwhile
            await self.close()
            raise Dropped(str(dropped)) from dropped
        if close:
            await self.close()
        return Answer(status, answer_headers, payload)


@dataclass
class Outcome:
    """What one buyer saw: an order, sold out at some step, or an error (step, status, problem)."""

    buyer: int
    order_id: str | None = None
    sold_out_at: str | None = None
    error: str | None = None
    started: float = 0.0
    ended: float = 0.0
    requests: int = 0
    retries: int = 0
    retried: dict[str, int] = field(default_factory=dict)  # why: "dropped", "503 overloaded", …
    steps: list[tuple[str, float]] = field(default_factory=list)  # (step, seconds)
    server_ms: float = 0.0  # the server's own time over the answers taken (their Server-Timing)
    # every answer: (sent at, epoch seconds; step; status; seconds it took; the server's own milliseconds)
    log: list[tuple[float, str, int, float, float]] = field(default_factory=list)


class Buyer:
    def __init__(self, number: int, host: str, port: int, local_address: str, run: str) -> None:
        self.number, self.run = number, run
        self.connection = Connection(host, port, local_address)
        self.origin = f"http://{host}:{port}"
        self.cookies: dict[str, str] = {}
        self.outcome = Outcome(buyer=number)

    def _headers(self, method: str, step: str) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if method != "GET":
            headers["Content-Type"] = "application/json"
            headers["Origin"] = self.origin
            headers["Idempotency-Key"] = f"{self.run}-{self.number}-{step}"
            if "emporium_csrf" in self.cookies:
                headers["X-CSRF-Token"] = self.cookies["emporium_csrf"]
        return headers

    def _remember(self, answer: Answer) -> None:
        for name, value in answer.headers:
            if name == "set-cookie":
                pair = value.split(";", 1)[0]
                key, _, cookie = pair.partition("=")
                if cookie and "max-age=0" not in value.lower():
                    self.cookies[key.strip()] = cookie.strip()
                else:
                    self.cookies.pop(key.strip(), None)

    async def call(self, step: str, method: str, path: str, body: Any = None,
                   headers: dict[str, str] | None = None, *, patient: float = 0.0) -> Answer:
        """``patient``: seconds to go on asking while told 429 with a ``Retry-After`` (waiting as told, those
        answers not counted as tries) — a storefront in a waiting room asks again when told, and keeps its place."""
        payload = json.dumps(body).encode() if body is not None else b""
        started = time.perf_counter()
        attempt = 0
        while attempt < TRIES:
            if attempt:
                self.outcome.retries += 1
                await asyncio.sleep(min(2.0, 0.25 * 2 ** (attempt - 1)))
            attempt += 1
            self.outcome.requests += 1
            try:
                answer = await self.logged(step, method, path, {**self._headers(method, step), **(headers or {})},
                                           payload)
            except (Dropped, OSError):
                self._retried("dropped")
                continue
            self._remember(answer)
            told = dict(answer.headers).get("retry-after") if answer.status == 429 else None
            if told is not None and time.perf_counter() - started < patient:
                self._retried(f"429 {answer.problem_type}")
                attempt -= 1
                await asyncio.sleep(float(told))
                continue
            if (
                answer.status in RETRIABLE
                or answer.status == 429
                or (answer.status == 409 and answer.problem_type == "idempotency-key-in-use")
            ):
                self._retried(f"{answer.status} {answer.problem_type}")
                continue
            self.outcome.steps.append((step, time.perf_counter() - started))
            self.outcome.server_ms += server_time(answer)
            return answer
        raise Dropped(f"{step}: no answer after {TRIES} tries")

    async def logged(self, step: str, method: str, path: str, headers: dict[str, str], payload: bytes = b"") -> Answer:
        """One request on the buyer's connection, its answer entered in the outcome's log."""
        sent, started = time.time(), time.perf_counter()
        answer = await self.connection.request(method, path, headers, payload)
        self.outcome.log.append((sent, step, answer.status, time.perf_counter() - started, server_time(answer)))
        return answer

    def _retried(self, why: str) -> None:
        self.outcome.retried[why] = self.outcome.retried.get(why, 0) + 1

    async def shop(self, sku: str, shipping_method: str, provider: str) -> Outcome:
        """The seven steps of a guest buying one unit; stops at the first refusal."""
        out = self.outcome
        out.started = time.perf_counter()
        try:
            await self._walk(sku, shipping_method, provider)
        except Dropped as gave_up:
            out.error = f"gave up: {gave_up}"
        finally:
            out.ended = time.perf_counter()
            await self.connection.close()
        return out

    async def _walk(self, sku: str, shipping_method: str, provider: str) -> None:
        out = self.outcome
        steps: list[tuple[str, str, str, Any, int]] = [
            ("add", "POST", "/store/cart/lines", {"sku": sku, "quantity": 1}, 201),
            ("checkout", "POST", "/store/checkout", None, 201),
        ]
        checkout_id = ""
        for step, method, path, body, expected in steps:
            answer = await self.call(step, method, path, body)
            if not self._accept(step, answer, expected):
                return
            if step == "checkout":
                checkout_id = answer.json()["id"]
        base = f"/store/checkout/{checkout_id}"
        rest: list[tuple[str, str, str, Any, int]] = [
            ("contact", "PUT", f"{base}/contact", {"email": f"buyer-{self.run}-{self.number}@example.com"}, 200),
            ("address", "PUT", f"{base}/address", {"shipping": BERLIN}, 200),
            ("shipping", "PUT", f"{base}/shipping", {"method_id": shipping_method}, 200),
            ("payment", "POST", f"{base}/payment", {"provider": provider}, 200),
            ("place", "POST", f"{base}/place", None, 201),
        ]
        for step, method, path, body, expected in rest:
            answer = await self.call(step, method, path, body)
            if not self._accept(step, answer, expected):
                return
            if step == "place":
                out.order_id = answer.json()["order_id"]

    def _accept(self, step: str, answer: Answer, expected: int) -> bool:
        if answer.status == expected:
            return True
        if answer.status == 409 and answer.problem_type == "out-of-stock":
            self.outcome.sold_out_at = step
        else:
            self.outcome.error = f"{step}: {answer.status} {answer.problem_type or answer.body[:80]!r}"
        return False


def server_time(answer: Answer) -> float:
    """Milliseconds the server says it spent (``Server-Timing: app;dur=…``), 0 without the header."""
    for name, value in answer.headers:
        if name == "server-timing":
            for part in value.split(";"):
                if part.strip().startswith("dur="):
                    return float(part.strip()[4:])
    return 0.0


def source_address(number: int) -> str:
    """Buyer ``number``'s own loopback address (127.1.0.1, 127.1.0.2, …): per-address limits count as in a shop."""
    n = number + 1
    return f"127.{1 + (n >> 16) % 254}.{(n >> 8) & 255}.{n & 255}"
