"""Who is shopping: the customer session and the guest cart cookie, and CSRF for both.

- ``emporium_session``: an opaque server-side session token (Redis), HTTP-only.
- ``emporium_cart``: the guest cart's id, HMAC-signed so it cannot be forged, HTTP-only.
- ``emporium_csrf``: readable by the storefront's script; an unsafe ``/store`` request that
  carries either cookie must echo it in ``X-CSRF-Token``. The token is an HMAC of the cookie
  it protects (a signed double submit), so a cookie planted from a sibling domain is useless.

All three are ``Secure`` (configurable for plain-HTTP development) and ``SameSite=Lax``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any

from litestar import Request
from litestar.datastructures import Cookie
from litestar.types import ASGIApp, Receive, Scope, Send

from application.customers.handlers import CurrentCustomer
from domain.carts.cart import Owner
from entrypoints.http.problems import problem
from entrypoints.logging import actor_var

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


def unsign(secret: str, signed: str | None) -> str | None:
    if not signed or "." not in signed:
        return None
    value, _, mac = signed.rpartition(".")
    return value if hmac.compare_digest(mac, _mac(secret, "cart", value)) else None


def csrf_token(secret: str, cookie_value: str) -> str:
    return _mac(secret, "csrf", cookie_value)


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


def _settings(request: Request[Any, Any, Any]) -> Any:
    return request.app.state.container.settings()


async def shopper(request: Request[Any, Any, Any]) -> Shopper:
    container = request.app.state.container
    secret = _settings(request).secret_key
    session_token = request.cookies.get(SESSION_COOKIE)
    customer_id = await container.bus().handle(CurrentCustomer(token=session_token)) if session_token else None
    if customer_id:
        request.state.customer_id = customer_id
        actor_var.set(f"customer:{customer_id}")
    return Shopper(
        customer_id=customer_id, session_token=session_token if customer_id else None,
        guest_token=unsign(secret, request.cookies.get(CART_COOKIE)),
    )


def _cookie(request: Request[Any, Any, Any], key: str, value: str, *, max_age: int, httponly: bool = True) -> Cookie:
    settings = _settings(request)
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


def csrf_middleware(app: ASGIApp) -> ASGIApp:
    """Refuse (403) an unsafe ``/store`` request that carries our cookies without the matching token."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http" or scope["method"] in SAFE_METHODS
            or not scope["path"].startswith("/store/") or scope["path"].startswith(CSRF_EXEMPT)
        ):
            await app(scope, receive, send)
            return
        request: Request[Any, Any, Any] = Request(scope)
        protected = request.cookies.get(SESSION_COOKIE) or request.cookies.get(CART_COOKIE)
        if protected:
            secret = scope["app"].state.container.settings().secret_key
            sent = request.headers.get(CSRF_HEADER, "")
            if not hmac.compare_digest(sent.encode(), csrf_token(secret, protected).encode()):
                response = problem(403, "csrf", "Missing or wrong X-CSRF-Token",
                                   "send the emporium_csrf cookie's value in the X-CSRF-Token header")
                await response.to_asgi_response(None, request)(scope, receive, send)
                return
        await app(scope, receive, send)

    return middleware
