"""Who is shopping: the customer session and the guest cart cookie, and CSRF for both.

- ``emporium_session``: an opaque server-side session token (Redis), HTTP-only.
- ``emporium_cart``: the guest cart's id, HMAC-signed so it cannot be forged, HTTP-only.
- ``emporium_csrf``: readable by the storefront's script; an unsafe ``/store`` request that
  carries either cookie must echo it in ``X-CSRF-Token``. The token is an HMAC of the cookie
  it protects (a signed double submit), so a cookie planted from a sibling domain is useless.
  A response that sets it also carries it in an ``X-CSRF-Token`` header, for a storefront on another
  origin (which cannot read our cookies; CORS lets only the allowed origins read the header).

All three are ``Secure`` (configurable for plain-HTTP development) and ``SameSite=Lax``; with allowed
origins configured (``EMPORIUM_ALLOWED_ORIGINS``: a headless storefront elsewhere) ``SameSite=None;
Secure``, so the browser sends them on that storefront's credentialed requests.

Signing uses the first of the configured keys and verifies with any (``EMPORIUM_OLD_SECRET_KEYS``), so
a key can be rotated without signing every shopper out.

Where a browser may call from (the origin rule): an unsafe ``/store`` request whose ``Origin`` is
neither this API's own (its ``Host``) nor an allowed origin is refused (403 ``cross-origin``), sign-in
and sign-up included, cookie or not; without ``Origin``, ``Sec-Fetch-Site`` other than ``same-origin``
or ``none`` is refused. A request with neither is no browser's (curl, server-to-server clients) and
passes: browsers send ``Origin`` on every cross-origin unsafe request, so that is no CSRF hole.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from litestar import Request
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from application.customers.handlers import CurrentCustomer
from domain.carts.cart import Owner
from entrypoints.http.problems import problem
from entrypoints.logging import actor_var
from entrypoints.settings import Settings, secret_keys

SESSION_COOKIE = "emporium_session"
CART_COOKIE = "emporium_cart"
CSRF_COOKIE = "emporium_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_EXEMPT = ("/store/events",)  # append-only analytics, often sent with sendBeacon (no headers)


def _mac(secret: str, purpose: str, value: str) -> str:
    digest = hmac.new(secret.encode(), f"{purpose}:{value}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign(secret: str, value: str) -> str:
    return f"{value}.{_mac(secret, 'cart', value)}"


def unsign(keys: list[str], signed: str | None) -> str | None:
    """The value, if any of ``keys`` signed it."""
    if not signed or "." not in signed:
        return None
    value, _, mac = signed.rpartition(".")
    return value if any(hmac.compare_digest(mac, _mac(key, "cart", value)) for key in keys) else None


def csrf_token(secret: str, cookie_value: str) -> str:
    return _mac(secret, "csrf", cookie_value)


def _csrf_matches(keys: list[str], cookie_value: str, sent: str) -> bool:
    return any(hmac.compare_digest(sent.encode(), csrf_token(key, cookie_value).encode()) for key in keys)


@dataclass
class Shopper:
    """The request's shopper; handlers change ``set_cookies`` / ``clear_cookies`` to answer with."""

    customer_id: str | None
    session_token: str | None
    guest_token: str | None
    new_cookies: list[Cookie] = field(default_factory=list)

    @property
    def owner(self) -> Owner | None:
        if self.customer_id:
            return Owner.customer(self.customer_id)
        if self.guest_token:
            return Owner.guest(self.guest_token)
        return None


def _settings(request: Request[Any, Any, Any]) -> Settings:
    settings: Settings = request.app.state.container.settings()
    return settings


async def shopper(request: Request[Any, Any, Any]) -> Shopper:
    container = request.app.state.container
    keys = secret_keys(_settings(request))
    session_token = request.cookies.get(SESSION_COOKIE)
    customer_id = await container.bus().handle(CurrentCustomer(token=session_token)) if session_token else None
    if customer_id:
        request.state.customer_id = customer_id
        actor_var.set(f"customer:{customer_id}")
    return Shopper(
        customer_id=customer_id, session_token=session_token if customer_id else None,
        guest_token=unsign(keys, request.cookies.get(CART_COOKIE)),
    )


def _cookie(request: Request[Any, Any, Any], key: str, value: str, *, max_age: int, httponly: bool = True) -> Cookie:
    settings = _settings(request)
    if settings.allowed_origins:  # a storefront on another site: its credentialed requests carry them
        return Cookie(key=key, value=value, max_age=max_age, path="/", httponly=httponly, secure=True,
                      samesite="none")
    return Cookie(key=key, value=value, max_age=max_age, path="/", httponly=httponly,
                  secure=settings.cookie_secure, samesite="lax")


def guest_owner(request: Request[Any, Any, Any], who: Shopper) -> Owner:
    """The owner to write a cart for: the customer, or a guest — minting a signed cart cookie if new."""
    owner = who.owner
    if owner is not None:
        return owner
    container = request.app.state.container
    token = container.ids().new_id()
    who.guest_token = token
    settings = _settings(request)
    signed = sign(settings.secret_key, token)
    who.new_cookies += [
        _cookie(request, CART_COOKIE, signed, max_age=settings.guest_cart_ttl_seconds),
        _cookie(request, CSRF_COOKIE, csrf_token(settings.secret_key, signed),
                max_age=settings.guest_cart_ttl_seconds, httponly=False),
    ]
    return Owner.guest(token)


def session_cookies(request: Request[Any, Any, Any], token: str, max_age: int) -> list[Cookie]:
    secret = _settings(request).secret_key
    return [
        _cookie(request, SESSION_COOKIE, token, max_age=max_age),
        _cookie(request, CSRF_COOKIE, csrf_token(secret, token), max_age=max_age, httponly=False),
        _expired(request, CART_COOKIE),
    ]


def _expired(request: Request[Any, Any, Any], key: str) -> Cookie:
    return _cookie(request, key, "", max_age=0)


def signed_out_cookies(request: Request[Any, Any, Any]) -> list[Cookie]:
    return [_expired(request, SESSION_COOKIE), _expired(request, CSRF_COOKIE), _expired(request, CART_COOKIE)]


def allowed_origins(settings: Settings) -> list[str]:
    return [o.strip().rstrip("/") for o in settings.allowed_origins.split(",") if o.strip()]


def _foreign(scope: Scope, settings: Settings) -> bool:
    """Whether a browser sent this from a page on another origin (the rule in the module docstring)."""
    headers = dict(scope["headers"])
    origin = headers.get(b"origin", b"").decode("latin-1").strip()
    if origin:
        if origin.rstrip("/") in allowed_origins(settings):
            return False
        host = headers.get(b"host", b"").decode("latin-1").strip().lower()
        return origin == "null" or not host or urlsplit(origin).netloc.lower() != host
    site = headers.get(b"sec-fetch-site", b"").decode("latin-1").strip().lower()
    return site not in ("", "same-origin", "none")


def _expose_csrf_token(send: Send) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableScopeHeaders.from_message(message)
            for cookie in headers.getall("set-cookie", []):
                name, _, rest = cookie.partition("=")
                value = rest.split(";", 1)[0].strip('"')
                if name.strip() == CSRF_COOKIE and value:
                    headers["X-CSRF-Token"] = value
        await send(message)

    return sending


def csrf_middleware(app: ASGIApp) -> ASGIApp:
    """Refuse (403) an unsafe ``/store`` request from a foreign origin, or one that carries our cookies
    without the matching token."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/store/"):
            await app(scope, receive, send)
            return
        send = _expose_csrf_token(send)
        if scope["method"] in SAFE_METHODS:
            await app(scope, receive, send)
            return
        request: Request[Any, Any, Any] = Request(scope)
        settings: Settings = scope["app"].state.container.settings()
        if _foreign(scope, settings):
            response = problem(403, "cross-origin", "Cross-origin request refused",
                               "this origin may not call the storefront API (see EMPORIUM_ALLOWED_ORIGINS)")
            await response.to_asgi_response(None, request)(scope, receive, send)
            return
        protected = request.cookies.get(SESSION_COOKIE) or request.cookies.get(CART_COOKIE)
        if protected and not scope["path"].startswith(CSRF_EXEMPT):
            sent = request.headers.get(CSRF_HEADER, "")
            if not _csrf_matches(secret_keys(settings), protected, sent):
                response = problem(403, "csrf", "Missing or wrong X-CSRF-Token",
                                   "send the emporium_csrf cookie's value in the X-CSRF-Token header")
                await response.to_asgi_response(None, request)(scope, receive, send)
                return
        await app(scope, receive, send)

    return middleware
