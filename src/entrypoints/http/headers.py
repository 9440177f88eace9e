"""Security headers on every response, the router's own 404s and CORS answers included (a ``before_send``
hook, which runs for every message the app sends).

- ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY`` and ``Referrer-Policy: no-referrer``.
- ``Content-Security-Policy``: nothing may load and nothing may frame an API answer
  (``default-src 'none'; frame-ancestors 'none'``); an HTML page (the docs) may use its one inline
  style sheet, allowed by hash, and no script.
- ``Strict-Transport-Security`` when the request came over HTTPS — directly, or through a trusted
  proxy that said so (``EMPORIUM_TRUSTED_PROXIES``: uvicorn then sets the scheme from
  ``X-Forwarded-Proto``). Plain HTTP gets none: a browser ignores it there anyway.
"""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

from entrypoints.http.docs import STYLE_HASH

HSTS = "max-age=63072000; includeSubDomains"
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
HTML_CSP = f"default-src 'none'; style-src {STYLE_HASH}; img-src 'self'; frame-ancestors 'none'; " \
           "base-uri 'none'; form-action 'none'"
ALWAYS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


async def security_headers(message: Message, scope: Scope) -> None:
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)
    for name, value in ALWAYS.items():
        headers[name] = value
    html = (headers.get("content-type") or "").startswith("text/html")
    headers["Content-Security-Policy"] = HTML_CSP if html else API_CSP
    if scope.get("scheme") == "https":
        headers["Strict-Transport-Security"] = HSTS
