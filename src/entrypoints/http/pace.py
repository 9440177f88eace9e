"""A waiting room's door: a question asked before its ``Retry-After`` waits for it or is refused, touching
nothing; the rest go through the process's valve.

Each answer that tells a shopper to wait also sets a pace cookie for that drop's queue (``Path`` the queue's,
so it travels with those questions only): the drop, the moment the shopper may ask again, and an HMAC of both
with the shopper's cookie (the session's, else the guest cart's), signed with the secret key. A question that
brings it before that moment is refused here — 429 ``asked-too-early`` with the seconds left in
``Retry-After`` — before the session is looked up, the room read or anything else awaited: a script asking
every second, in many sessions, costs a signature check per question, not a Redis script and a session
lookup. Without the cookie, or with one that does not verify for this shopper, the question is answered in
full, as before (a storefront that lost it has only asked once too often).

A shopper who waits as told is never refused: the moment is set a second before the ``Retry-After`` given.
A question that comes early by no more than ``drop_queue_hold_seconds`` is not refused but held — the
connection open, nothing computed, the shopper gone meanwhile forgotten — and answered in full at its
moment: a script that asks every second, whatever it is told, then asks once per ``Retry-After`` like
everyone else, because its question is not answered sooner (``limit_req``'s delay, in nginx's words). At
most ``HOLD_MOST`` questions are held by a process at once; the others are refused as above.

The questions that pass (and every join) go through a valve of this process (``entrypoints/http/valve.py``):
in the order they came, up to ``drop_queue_in_flight`` at once while the event loop keeps up, one at a time
when it lags; ``drop_queue_backlog`` more wait their turn; beyond that, 429 ``queue-busy`` with a
``Retry-After`` of about the time the line ahead takes to move through. A join keeps its place meanwhile: the
moment it first came (its bytes read: ``entrypoints/http/arrival.py``) goes with it through the valve (the
ticket is dated by it), and a refused one takes an
arrival cookie (signed, bound to the shopper and the drop, good for ``ARRIVAL_KEPT`` seconds) that dates
the join sent again. When tens of thousands arrive in the same seconds, the queue's own traffic is what
waits, not the checkouts of the shoppers already admitted: they share the process's event loop and
connection pools with it, and a flood of questions holding them would turn every admitted shopper's step
into a wait (or a 503) — the room exists to prevent that. The refusals are written straight to the
connection (a flood is made of them).
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

import msgspec
from litestar import Request
from litestar.datastructures import Cookie
from litestar.types import ASGIApp, Receive, Scope, Send
from prometheus_client import Counter

from entrypoints.http.arrival import received_at
from entrypoints.http.problems import PROBLEM_JSON, TYPE_BASE
from entrypoints.http.store.identity import CART_COOKIE, SESSION_COOKIE
from entrypoints.http.valve import Valve, loop_keeps_up
from entrypoints.settings import Settings, secret_keys

PACE_COOKIE = "emporium_queue_pace"
ARRIVAL_COOKIE = "emporium_queue_arrival"
ARRIVED = "queue_arrived_at"  # the scope state key: when the join first came (epoch seconds)
ARRIVAL_KEPT = 300.0  # seconds an arrival cookie dates a join sent again
HOLD_MOST = 10_000  # questions one process holds until their moment, at once
QUEUE_PATH = re.compile(r"^/store/drops/([A-Za-z0-9_-]{1,64})/queue$")
SLACK = 1.0  # seconds: the moment is set this much before the Retry-After given
BUSY = Counter("emporium_queue_questions_busy_total",
               "Waiting-room joins and questions refused because this process had too many in hand", registry=None)
TOO_EARLY = Counter("emporium_queue_questions_too_early_total",
                    "Waiting-room questions refused because they came before their Retry-After", registry=None)
HELD = Counter("emporium_queue_questions_held_total",
               "Waiting-room questions that came before their Retry-After, held and answered at their moment",
               registry=None)


def _fingerprint(cookies: dict[str, str]) -> str | None:
    return cookies.get(SESSION_COOKIE) or cookies.get(CART_COOKIE) or None


def _mac(key: str, drop_id: str, moment: str, fingerprint: str, kind: str = "pace") -> str:
    body = f"{kind}\x00{drop_id}\x00{moment}\x00{fingerprint}".encode()
    return base64.urlsafe_b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()[:18]).decode()


def _signed_moment(keys: list[str], drop_id: str, cookie: str | None, fingerprint: str | None,
                   kind: str = "pace") -> float | None:
    """The moment a cookie of ``kind`` carries, when it verifies for this shopper and drop."""
    if not cookie or not fingerprint:
        return None
    moment, _, mac = cookie.rpartition(".")
    try:
        value = float(moment)
    except ValueError:
        return None
    if not math.isfinite(value) or not any(
            hmac.compare_digest(mac, _mac(key, drop_id, moment, fingerprint, kind)) for key in keys):
        return None
    return value


def pace_cookie(settings: Settings, drop_id: str, retry_after: int, fingerprint: str, *, secure: bool,
                same_site: str, now: float | None = None) -> Cookie:
    """The cookie telling the gate when the shopper of ``fingerprint`` may ask about ``drop_id`` again."""
    not_before = f"{(now if now is not None else time.time()) + max(0.0, retry_after - SLACK):.3f}"
    value = f"{not_before}.{_mac(settings.secret_key, drop_id, not_before, fingerprint)}"
    return Cookie(key=PACE_COOKIE, value=value, path=f"/store/drops/{drop_id}/queue", max_age=retry_after + 60,
                  httponly=True, secure=secure, samesite=same_site)  # type: ignore[arg-type]


def seconds_left(keys: list[str], drop_id: str, cookie: str | None, fingerprint: str | None, now: float) -> float:
    """How long the shopper must still wait, by a pace cookie that verifies for them; 0 when they may ask."""
    moment = _signed_moment(keys, drop_id, cookie, fingerprint)
    return 0.0 if moment is None or moment <= now else moment - now


def arrival_cookie(settings: Settings, drop_id: str, arrived: float, fingerprint: str) -> Cookie:
    """The cookie that dates the shopper's join sent again by the moment it first came."""
    moment = f"{arrived:.6f}"
    cross_site = bool(settings.allowed_origins)
    mac = _mac(settings.secret_key, drop_id, moment, fingerprint, "came")
    return Cookie(key=ARRIVAL_COOKIE, value=f"{moment}.{mac}",
                  path=f"/store/drops/{drop_id}/queue", max_age=int(ARRIVAL_KEPT), httponly=True,
                  secure=cross_site or settings.cookie_secure, samesite="none" if cross_site else "lax")


def arrived_at(keys: list[str], drop_id: str, cookie: str | None, fingerprint: str | None, now: float) -> float:
    """When the shopper's join first came: the arrival cookie's moment (verified, not older than
    ``ARRIVAL_KEPT``, not in the future), else ``now``."""
    moment = _signed_moment(keys, drop_id, cookie, fingerprint, "came")
    return moment if moment is not None and now - ARRIVAL_KEPT <= moment <= now else now


def fingerprint_of(request: Request[Any, Any, Any], new_cookies: list[Cookie]) -> str | None:
    """The cookie the pace is bound to, as the shopper will send it: a cookie this answer sets counts."""
    sent = {c.key: c.value or "" for c in new_cookies}
    return _fingerprint({**request.cookies, **sent})


async def _refuse(send: Send, slug: str, title: str, detail: str, retry_after: int,
                  cookie: Cookie | None = None) -> None:
    """A 429 problem document, written straight to the connection: the refusals are the answers a flood
    is made of, so they cost an encode and two sends, nothing of the framework."""
    body = msgspec.json.encode({"type": TYPE_BASE + slug, "title": title, "status": 429, "detail": detail})
    headers = [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode()),
               (b"retry-after", str(retry_after).encode())]
    if cookie is not None:
        headers.append(cookie.to_encoded_header())
    await send({"type": "http.response.start", "status": 429, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _busy(scope: Scope, send: Send, valve: Valve, arrival: Cookie | None) -> Any:
    BUSY.inc()
    # How long the line now waiting at this door takes to move through, spread by a quarter either way.
    spread = 0.75 + 0.5 * hashlib.sha256(repr(scope.get("client")).encode()).digest()[0] / 255
    wait = max(1, min(60, round(valve.wait_seconds() * spread)))
    return _refuse(send, "queue-busy", "The waiting room is busy",
                   f"too many shoppers are asking at this moment; your place is kept: ask again in {wait} s",
                   wait, arrival)


async def _held(seconds: float, receive: Receive) -> Receive | None:
    """Wait ``seconds`` with the question (its whole request already in), or ``None`` if the shopper hangs
    up meanwhile; the ``receive`` to answer it with afterwards. One whose body comes in parts is not held."""
    first = await receive()
    if first["type"] != "http.request":
        return None
    replay = [first]

    async def replayed() -> Any:
        return replay.pop() if replay else await receive()

    if first.get("more_body"):
        return replayed
    hang_up = asyncio.ensure_future(receive())
    try:
        done, _ = await asyncio.wait({hang_up}, timeout=seconds)
    finally:
        if not hang_up.done():
            hang_up.cancel()
    return None if done else replayed


class _Door:
    """A process's valve and the questions it holds (per application: tests build several in one process)."""

    def __init__(self, settings: Settings) -> None:
        self.valve = Valve(in_flight=settings.drop_queue_in_flight, backlog=settings.drop_queue_backlog,
                           responsive=loop_keeps_up)
        self.held = 0


def pace_middleware(app: ASGIApp) -> ASGIApp:
    """Refuse (429) a waiting-room question that comes before its time, before anything else runs, and
    one that finds this process's queue valve full."""
    doors: dict[int, _Door] = {}

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "POST") or not (
                found := QUEUE_PATH.match(scope["path"])):
            await app(scope, receive, send)
            return
        request: Request[Any, Any, Any] = Request(scope)
        settings = scope["app"].state.container.settings()
        door = doors.get(id(scope["app"])) or doors.setdefault(id(scope["app"]), _Door(settings))
        cookies, now, drop_id = request.cookies, time.time(), found.group(1)
        came = min(now, received_at(scope))  # when its bytes were read (entrypoints/http/arrival.py)
        fingerprint = _fingerprint(cookies)
        if scope["method"] == "GET":
            left = seconds_left(secret_keys(settings), drop_id, cookies.get(PACE_COOKIE), fingerprint, now)
            if left and left <= settings.drop_queue_hold_seconds and door.held < HOLD_MOST:
                HELD.inc()
                door.held += 1
                try:
                    answer_with = await _held(left, receive)
                finally:
                    door.held -= 1
                if answer_with is None:
                    return  # gone: nobody to answer
                receive = answer_with
            elif left:
                TOO_EARLY.inc()
                wait = max(1, math.ceil(left))
                await _refuse(send, "asked-too-early", "Asked too early",
                              f"your place in the queue has not changed enough to tell: ask again in {wait} s", wait)
                return
        else:  # a join: its place goes by the moment it first came
            scope.setdefault("state", {})[ARRIVED] = arrived_at(
                secret_keys(settings), drop_id, cookies.get(ARRIVAL_COOKIE), fingerprint, came)
        if not door.valve.admits():
            arrival = (arrival_cookie(settings, drop_id, scope["state"][ARRIVED], fingerprint)
                       if scope["method"] == "POST" and fingerprint else None)
            await _busy(scope, send, door.valve, arrival)
            return
        await door.valve.run(app(scope, receive, send))

    return middleware
