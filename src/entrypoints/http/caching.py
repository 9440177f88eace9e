"""Edge caching for public catalog reads: strong ETag, 304, Cache-Control and Surrogate-Key.

Anything that does not opt in here is sent ``private, no-store`` by the observing middleware.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any

import msgspec
from litestar import MediaType, Request, Response

_encoder = msgspec.json.Encoder()

# Set by the edge (deploy/varnish/emporium.vcl) on its requests to the API, and stripped from the shopper's.
EDGE_HEADER = "x-emporium-edge"


def _matches(if_none_match: str, etag: str) -> bool:
    candidates = {tag.strip() for tag in if_none_match.split(",")}
    return "*" in candidates or etag in candidates


@dataclass(frozen=True, slots=True)
class Rendered:
    payload: bytes
    etag: str
    surrogate_keys: tuple[str, ...] = ()
    changes_at: float | None = None  # epoch seconds when the document changes by the clock alone (a drop opens)


def render(body: Any, surrogate_keys: tuple[str, ...] = (), changes_at: float | None = None) -> Rendered:
    payload = _encoder.encode(body)
    return Rendered(payload, '"' + hashlib.sha256(payload).hexdigest()[:32] + '"', surrogate_keys, changes_at)


class MicroCache:
    """Rendered public documents kept for a second or two in this process.

    In front of the CDN's own cache it absorbs bursts (a flash sale's product page, CDN
    revalidations): staleness is bounded by ``ttl`` on top of what the edge already allows.
    """

    def __init__(self, *, ttl: float = 2.0, max_entries: int = 10_000) -> None:
        self._ttl = ttl
        self._max = max_entries
        self._entries: dict[str, tuple[float, Rendered | None]] = {}

    def get(self, key: str) -> tuple[bool, Rendered | None]:
        entry = self._entries.get(key)
        if entry is None or entry[0] < time.monotonic():
            return False, None
        if entry[1] is not None and entry[1].changes_at is not None and entry[1].changes_at <= time.time():
            return False, None  # it reads differently now (a sale ended, a drop opened)
        return True, entry[1]

    def put(self, key: str, value: Rendered | None) -> None:
        if len(self._entries) >= self._max:
            now = time.monotonic()
            self._entries = {k: v for k, v in self._entries.items() if v[0] >= now}
            if len(self._entries) >= self._max:
                self._entries.clear()
        self._entries[key] = (time.monotonic() + self._ttl, value)


def cacheable(
    request: Request[Any, Any, Any], body: Any, *, surrogate_keys: list[str], max_age: int = 60,
    s_maxage: int = 300, stale_while_revalidate: int = 600, changes_at: float | None = None,
    vary: str = "Accept-Encoding",
) -> Response[bytes]:
    """A public response a CDN may keep; 304 when the client already holds this exact body."""
    return cacheable_rendered(request, render(body, changes_at=changes_at), surrogate_keys=surrogate_keys,
                              max_age=max_age, s_maxage=s_maxage, stale_while_revalidate=stale_while_revalidate,
                              vary=vary)


def cacheable_rendered(
    request: Request[Any, Any, Any], rendered: Rendered, *, surrogate_keys: list[str], max_age: int = 60,
    s_maxage: int = 300, stale_while_revalidate: int = 600, vary: str = "Accept-Encoding",
) -> Response[bytes]:
    """``vary``: the request headers the body depends on (``X-Channel`` for priced catalog reads)."""
    payload, etag = rendered.payload, rendered.etag
    if rendered.changes_at is not None:  # no cache may show it past that moment
        left = max(0, int(rendered.changes_at - time.time()))
        max_age, s_maxage, stale_while_revalidate = min(max_age, left), min(s_maxage, left), 0
    headers = {
        "Cache-Control": f"public, max-age={max_age}, s-maxage={s_maxage}, "
        f"stale-while-revalidate={stale_while_revalidate}",
        "ETag": etag,
        "Surrogate-Key": " ".join(surrogate_keys),
        "Vary": vary,
    }
    if _matches(request.headers.get("if-none-match", ""), etag):
        return Response(b"", status_code=304, headers=headers)
    return Response(payload, media_type=MediaType.JSON, headers=headers)
