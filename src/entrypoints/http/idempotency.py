"""``Idempotency-Key`` on state-changing requests (storefront and admin).

The first request with a key (per caller: session, cart cookie or bearer token) runs and its
response is stored; the same key with the same request replays that response; with a different
request it is refused (422); while the first is still running, a duplicate waits for it a
little, then gets 409. Only an answer that changed something (2xx, 3xx) is stored: a refusal (4xx)
changed nothing and a failure on our side (5xx) may have changed nothing, so either releases the
key and a retry runs again. Keys are kept at least 24 hours. The store is Redis by default
(``EMPORIUM_IDEMPOTENCY_STORE``).

A process renews the claims it runs (``Leases``: one call to the store for all of them, every third
of ``LEASE``), so a claim outlives its request only when its process died: then it lapses within
``LEASE`` and the retry waiting on it takes it over and runs again — every unsafe step is safe to run
twice (``place`` answers the order its checkout already produced, a payment is keyed by its order).
A buyer whose server died before answering gets the answer on the first retry, a few seconds late.

Joining a drop's waiting room is idempotent by itself (one ticket per shopper and drop: joining again keeps
the place and answers where it stands now), and thousands join in the same second: a key sent with it is
not claimed or stored (``NATURALLY_IDEMPOTENT``), which saves the two round trips to the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, Request
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from application.ports.idempotency import LEASE, Claim, IdempotencyStore, StoredResponse
from entrypoints.http.problems import problem

log = logging.getLogger(__name__)

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
NATURALLY_IDEMPOTENT = re.compile(r"^/store/drops/[^/]+/queue/?$")
# A duplicate waits this long for the request it repeats: longer than LEASE, so a retry whose
# original died takes the claim over (and answers) instead of being told 409 in-use.
WAIT_SECONDS = 10.0
RENEW_EVERY = LEASE.total_seconds() / 3


class Leases:
    """The claims this process runs, renewed together while they run (see the module's docstring)."""

    def __init__(self) -> None:
        self._running: Counter[tuple[str, str]] = Counter()

    def hold(self, scope: str, key: str) -> None:
        self._running[(scope, key)] += 1

    def drop(self, scope: str, key: str) -> None:
        self._running[(scope, key)] -= 1
        if self._running[(scope, key)] <= 0:
            del self._running[(scope, key)]

    def running(self) -> list[tuple[str, str]]:
        return list(self._running)

    async def renew(self, store: IdempotencyStore, clock: Any) -> None:
        claims = self.running()
        if claims:
            await store.renew(claims=claims, now=clock.now())

    async def keep(self, store: IdempotencyStore, clock: Any, every: float = RENEW_EVERY) -> None:
        """Forever: renew what runs. A store that fails now is tried again next time: the claims have
        two more renewals before they lapse."""
        while True:
            await asyncio.sleep(every)
            try:
                await self.renew(store, clock)
            except Exception:  # an outage must not end the renewals
                log.warning("renewing %d idempotency claims failed", len(self._running), exc_info=True)


@asynccontextmanager
async def idempotency_leases(app: Litestar) -> AsyncIterator[None]:
    """A Litestar lifespan: the claims the app runs are renewed while it runs."""
    leases = Leases()
    app.state.idempotency_leases = leases
    container = app.state.container
    task = asyncio.create_task(leases.keep(container.idempotency_store(), container.clock()),
                               name="idempotency-leases")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
# Set-Cookie is not stored: session tokens stay out of the table (the first response set them).
_REPLAYED_HEADERS = frozenset({b"content-type", b"location", b"etag"})


def _caller(request: Request[Any, Any, Any]) -> str:
    identity = (
        request.headers.get("authorization") or request.cookies.get("emporium_session")
        or request.cookies.get("emporium_cart") or f"ip:{request.client.host if request.client else '-'}"
    )
    return hashlib.sha256(identity.encode()).hexdigest()


def idempotency_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in UNSAFE or NATURALLY_IDEMPOTENT.match(scope["path"]):
            await app(scope, receive, send)
            return
        key = dict(scope["headers"]).get(b"idempotency-key", b"").decode("latin-1").strip()
        if not key:
            await app(scope, receive, send)
            return
        request: Request[Any, Any, Any] = Request(scope, receive)
        container = scope["app"].state.container
        if len(key) > 255:
            await _send(problem(400, "bad-idempotency-key", "Idempotency-Key is at most 255 characters"),
                        scope, receive, send, request)
            return
        body = await request.body()
        fingerprint = hashlib.sha256(
            scope["method"].encode() + b" " + scope["path"].encode() + b"?" + scope.get("query_string", b"")
            + b"\n" + body
        ).hexdigest()
        store = container.idempotency_store()
        caller = _caller(request)
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            result = await store.claim(scope=caller, key=key, request_hash=fingerprint, now=container.clock().now())
            if result.claim is not Claim.RUNNING or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.05)
        if result.claim is Claim.MISMATCH:
            await _send(problem(422, "idempotency-key-reused", "This Idempotency-Key was used for another request"),
                        scope, receive, send, request)
            return
        if result.claim is Claim.RUNNING:
            await _send(problem(409, "idempotency-key-in-use", "A request with this Idempotency-Key is still running",
                                headers={"Retry-After": "1"}), scope, receive, send, request)
            return
        if result.claim is Claim.REPLAY and result.response is not None:
            stored = result.response
            await send({"type": "http.response.start", "status": stored.status,
                        "headers": [(k.encode(), v.encode()) for k, v in stored.headers]
                        + [(b"idempotent-replayed", b"true")]})
            await send({"type": "http.response.body", "body": stored.body})
            return

        replayed_body = False

        async def receive_again() -> Message:
            nonlocal replayed_body
            if not replayed_body:
                replayed_body = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        status = 500
        headers: list[tuple[str, str]] = []
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal status, headers
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in message.get("headers", [])
                           if k.lower() in _REPLAYED_HEADERS]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        leases: Leases = scope["app"].state.idempotency_leases
        leases.hold(caller, key)
        try:
            await app(scope, receive_again, capture)
        except BaseException:
            await _settle(store.abandon(scope=caller, key=key), "released")
            raise
        finally:
            leases.drop(caller, key)
        if status >= 400:
            # Nothing changed (a refusal, a validation error, sold out) or it failed on our side: a retry
            # runs again and answers what is true then. Only a response that changed something is kept.
            await _settle(store.abandon(scope=caller, key=key), "released")
        else:
            await _settle(store.finish(scope=caller, key=key, response=StoredResponse(
                status=status, headers=headers, body=b"".join(chunks))), "stored")

    return middleware


async def _settle(step: Awaitable[None], what: str) -> None:
    """Release or store a key once the answer is sent (or the request failed). A store out of reach then
    (Redis restarting) must not turn an answer already given into an error: the claim lapses with its
    lease and a retry runs the step again, which every unsafe step allows."""
    try:
        await step
    except Exception as error:  # noqa: BLE001 - the answer stands, only its replay is lost
        log.warning("an Idempotency-Key could not be %s (%s); a retry runs the request again", what, error)


async def _send(response: Any, scope: Scope, receive: Receive, send: Send, request: Request[Any, Any, Any]) -> None:
    await response.to_asgi_response(None, request)(scope, receive, send)
