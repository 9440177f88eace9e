"""Rate limits on the storefront's unsafe calls, per client address and per shopper session.

Every POST, PUT, PATCH and DELETE under ``/store`` (``EXEMPT`` aside) takes one token from its address's
bucket and one from its session's (the session cookie, else the guest cart cookie; a call with neither
has the address's alone) in one atomic ``RateLimiter.take``: from both or from neither. When either is
empty the call is refused before anything runs, 429 ``too-many-requests`` with ``Retry-After``; reads are
never limited. The limiter out of reach (Redis) is a 503 + Retry-After (``outages.py``), as for every other
state that lives in Redis alone. The settings ``store_write_*`` size the buckets; 0 turns one off.

The address is the connection's, or the one a trusted proxy forwarded (uvicorn sets it from
``EMPORIUM_TRUSTED_PROXIES``), as everywhere else in the app; an IPv6 client counts by its /64
(``addresses.py``).

It runs after ``csrf_middleware``: a cross-site page cannot spend a shopper's tokens, and a call that
carries a cookie here has shown that cookie's CSRF token, so the session key is one we issued, not the
caller's free pick (a script can still take a new guest cart per call: the address bucket bounds that).
It runs before ``idempotency_middleware``: a refused call claims no Idempotency-Key, and a retry counts
as a call like any other.
"""

from __future__ import annotations

import hashlib
from typing import Any

from litestar import Request
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from application.ports.rate_limit import TokenBucket
from entrypoints.http.addresses import client_address
from entrypoints.http.metrics import STORE_WRITES_REFUSED
from entrypoints.http.problems import problem
from entrypoints.http.store.identity import CART_COOKIE, SAFE_METHODS, SESSION_COOKIE
from entrypoints.settings import Settings

# Storefront analytics: beacons a page sends as it goes, limited per address on their own (store/events.py).
EXEMPT = frozenset({"/store/events"})


def _limited(scope: Scope) -> bool:
    if scope["type"] != ScopeType.HTTP or scope["method"] in SAFE_METHODS:
        return False
    path: str = scope["path"]
    return path.startswith("/store/") and path.rstrip("/") not in EXEMPT


def _session(request: Request[Any, Any, Any]) -> str | None:
    """The shopper's session or guest cart, hashed: the tokens themselves stay out of Redis's key names."""
    cookie = request.cookies.get(SESSION_COOKIE) or request.cookies.get(CART_COOKIE)
    return hashlib.sha256(cookie.encode()).hexdigest()[:32] if cookie else None


def _buckets(request: Request[Any, Any, Any], settings: Settings) -> dict[str, tuple[str, TokenBucket]]:
    """The caller's buckets by key, each with its kind (``address`` or ``session``); none for a limit at 0."""
    buckets: dict[str, tuple[str, TokenBucket]] = {}
    if settings.store_write_rate_per_ip > 0 and settings.store_write_burst_per_ip > 0:
        address = client_address(request)
        buckets[f"store-writes:address:{address}"] = ("address", TokenBucket(
            rate=settings.store_write_rate_per_ip, burst=settings.store_write_burst_per_ip))
    session = _session(request)
    if session and settings.store_write_rate_per_session > 0 and settings.store_write_burst_per_session > 0:
        buckets[f"store-writes:session:{session}"] = ("session", TokenBucket(
            rate=settings.store_write_rate_per_session, burst=settings.store_write_burst_per_session))
    return buckets


def abuse_middleware(app: ASGIApp) -> ASGIApp:
    """Refuse (429) an unsafe ``/store`` call while its address's or its session's bucket is empty."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if not _limited(scope):
            await app(scope, receive, send)
            return
        container = scope["app"].state.container
        request: Request[Any, Any, Any] = Request(scope)
        buckets = _buckets(request, container.settings())
        if buckets:
            decision = await container.rate_limiter().take({key: bucket for key, (_, bucket) in buckets.items()})
            if not decision.allowed:
                kinds = [buckets[key][0] for key in decision.empty]
                for kind in kinds:
                    STORE_WRITES_REFUSED.labels(kind).inc()
                response = problem(
                    429, "too-many-requests", "Too many requests",
                    f"too many changes from this {' and this '.join(kinds)}; retry after {decision.retry_after} s",
                    headers={"Retry-After": str(decision.retry_after)},
                )
                await response.to_asgi_response(None, request)(scope, receive, send)
                return
        await app(scope, receive, send)

    return middleware
