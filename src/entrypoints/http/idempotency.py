"""``Idempotency-Key`` on state-changing requests (storefront and admin).

The first request with a key (per caller: session, cart cookie or bearer token) runs and its
response is stored; the same key with the same request replays that response; with a different
request it is refused (422); while the first is still running, a duplicate waits for it a
little, then gets 409. Only an answer that changed something (2xx, 3xx) is stored: a refusal (4xx)
changed nothing and a failure on our side (5xx) may have changed nothing, so either releases the
key and a retry runs again. A claim whose process died is taken over after 2 minutes. Keys are
kept at least 24 hours. The store is Redis by default (``EMPORIUM_IDEMPOTENCY_STORE``).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from typing import Any

from litestar import Request
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from application.ports.idempotency import Claim, StoredResponse
from entrypoints.http.problems import problem

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
WAIT_SECONDS = 10.0
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
        if scope["type"] != "http" or scope["method"] not in UNSAFE:
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

        try:
            await app(scope, receive_again, capture)
        except BaseException:
            await store.abandon(scope=caller, key=key)
            raise
        if status >= 400:
            # Nothing changed (a refusal, a validation error, sold out) or it failed on our side: a retry
            # runs again and answers what is true then. Only a response that changed something is kept.
            await store.abandon(scope=caller, key=key)
        else:
            await store.finish(scope=caller, key=key,
                               response=StoredResponse(status=status, headers=headers, body=b"".join(chunks)))

    return middleware


async def _send(response: Any, scope: Scope, receive: Receive, send: Send, request: Request[Any, Any, Any]) -> None:
    await response.to_asgi_response(None, request)(scope, receive, send)
