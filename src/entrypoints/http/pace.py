"""A waiting room's pace: a question asked before its ``Retry-After`` is answered at once, touching nothing.

Each answer that tells a shopper to wait also sets a pace cookie for that drop's queue (``Path`` the queue's,
so it travels with those questions only): the drop, the moment the shopper may ask again, and an HMAC of both
with the shopper's cookie (the session's, else the guest cart's), signed with the secret key. A question that
brings it before that moment is refused here — 429 ``asked-too-early`` with the seconds left in
``Retry-After`` — before the session is looked up, the room read or anything else awaited: a script asking
every second, in many sessions, costs a signature check per question, not a Redis script and a session
lookup. Without the cookie, or with one that does not verify for this shopper, the question is answered in
full, as before (a storefront that lost it has only asked once too often).

A shopper who waits as told is never refused: the moment is set a second before the ``Retry-After`` given.

The questions that pass (and every join) go through a valve of this process: at most
``drop_queue_in_flight`` at once, up to ``drop_queue_backlog`` more waiting their turn in order; beyond
that, 429 ``queue-busy`` with a ``Retry-After`` of a second or two. When tens of thousands arrive in the
same seconds, the queue's own traffic is what waits, not the checkouts of the shoppers already admitted:
they share the process's event loop and connection pools with it, and a flood of questions holding
them would turn every admitted shopper's step into a wait (or a 503) — the room exists to prevent that.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import math
import re
import time
from typing import Any

from litestar import Request
from litestar.datastructures import Cookie
from litestar.types import ASGIApp, Receive, Scope, Send
from prometheus_client import Counter

from entrypoints.http.problems import problem
from entrypoints.http.store.identity import CART_COOKIE, SESSION_COOKIE
from entrypoints.settings import Settings, secret_keys

PACE_COOKIE = "emporium_queue_pace"
QUEUE_PATH = re.compile(r"^/store/drops/([A-Za-z0-9_-]{1,64})/queue$")
SLACK = 1.0  # seconds: the moment is set this much before the Retry-After given
BUSY = Counter("emporium_queue_questions_busy_total",
               "Waiting-room joins and questions refused because this process had too many in hand", registry=None)
TOO_EARLY = Counter("emporium_queue_questions_too_early_total",
                    "Waiting-room questions refused because they came before their Retry-After", registry=None)


def _fingerprint(cookies: dict[str, str]) -> str | None:
    return cookies.get(SESSION_COOKIE) or cookies.get(CART_COOKIE) or None


def _mac(key: str, drop_id: str, not_before: str, fingerprint: str) -> str:
    body = f"pace\x00{drop_id}\x00{not_before}\x00{fingerprint}".encode()
    return base64.urlsafe_b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()[:18]).decode()


def pace_cookie(settings: Settings, drop_id: str, retry_after: int, fingerprint: str, *, secure: bool,
                same_site: str, now: float | None = None) -> Cookie:
    """The cookie telling the gate when the shopper of ``fingerprint`` may ask about ``drop_id`` again."""
    not_before = f"{(now if now is not None else time.time()) + max(0.0, retry_after - SLACK):.3f}"
    value = f"{not_before}.{_mac(settings.secret_key, drop_id, not_before, fingerprint)}"
    return Cookie(key=PACE_COOKIE, value=value, path=f"/store/drops/{drop_id}/queue", max_age=retry_after + 60,
                  httponly=True, secure=secure, samesite=same_site)  # type: ignore[arg-type]


def seconds_left(keys: list[str], drop_id: str, cookie: str | None, fingerprint: str | None, now: float) -> int:
    """How long the shopper must still wait, by a pace cookie that verifies for them; 0 when they may ask."""
    if not cookie or not fingerprint:
        return 0
    not_before, _, mac = cookie.rpartition(".")
    try:
        moment = float(not_before)
    except ValueError:
        return 0
    if moment <= now or not any(hmac.compare_digest(mac, _mac(key, drop_id, not_before, fingerprint))
                                for key in keys):
        return 0
    return max(1, math.ceil(moment - now))


def fingerprint_of(request: Request[Any, Any, Any], new_cookies: list[Cookie]) -> str | None:
    """The cookie the pace is bound to, as the shopper will send it: a cookie this answer sets counts."""
    sent = {c.key: c.value or "" for c in new_cookies}
    return _fingerprint({**request.cookies, **sent})


class Valve:
    """At most ``in_flight`` at once, ``backlog`` more waiting in order (asyncio's semaphore wakes its
    waiters first come, first served); ``None`` from ``enter`` when both are full."""

    def __init__(self, *, in_flight: int, backlog: int) -> None:
        if in_flight < 1 or backlog < 0:
            raise ValueError("a valve lets at least one through and keeps a backlog of 0 or more")
        self._gate = asyncio.Semaphore(in_flight)
        self._bound = in_flight + backlog
        self._held = 0  # in flight and waiting

    @property
    def held(self) -> int:
        return self._held

    def admits(self) -> bool:
        return self._held < self._bound

    async def run(self, work: Any) -> None:
        self._held += 1
        try:
            async with self._gate:
                await work
        finally:
            self._held -= 1


def _busy(request: Request[Any, Any, Any], scope: Scope, receive: Receive, send: Send) -> Any:
    BUSY.inc()
    wait = 1 + int(hashlib.sha256(repr(scope.get("client")).encode()).digest()[0]) % 2  # spread over 1–2 s
    response = problem(429, "queue-busy", "The waiting room is busy",
                       f"too many shoppers are asking at this moment; your place is kept: ask again in {wait} s",
                       headers={"Retry-After": str(wait)})
    return response.to_asgi_response(None, request)(scope, receive, send)


def pace_middleware(app: ASGIApp) -> ASGIApp:
    """Refuse (429) a waiting-room question that comes before its time, before anything else runs, and
    one that finds this process's queue valve full."""
    valves: dict[int, Valve] = {}  # per application (tests build several in one process)

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "POST") or not (
                found := QUEUE_PATH.match(scope["path"])):
            await app(scope, receive, send)
            return
        request: Request[Any, Any, Any] = Request(scope)
        settings = scope["app"].state.container.settings()
        if scope["method"] == "GET":
            cookies = request.cookies
            left = seconds_left(secret_keys(settings), found.group(1), cookies.get(PACE_COOKIE),
                                _fingerprint(cookies), time.time())
            if left:
                TOO_EARLY.inc()
                response = problem(429, "asked-too-early", "Asked too early",
                                   f"your place in the queue has not changed enough to tell: ask again in {left} s",
                                   headers={"Retry-After": str(left)})
                await response.to_asgi_response(None, request)(scope, receive, send)
                return
        valve = valves.get(id(scope["app"]))
        if valve is None:
            valve = valves[id(scope["app"])] = Valve(in_flight=settings.drop_queue_in_flight,
                                                     backlog=settings.drop_queue_backlog)
        if not valve.admits():
            await _busy(request, scope, receive, send)
            return
        await valve.run(app(scope, receive, send))

    return middleware
