"""Edge caching for public catalog reads: strong ETag, 304, Cache-Control and Surrogate-Key.

Anything that does not opt in here is sent ``private, no-store`` by the observing middleware.
"""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec
from litestar import MediaType, Request, Response

_encoder = msgspec.json.Encoder()


def _matches(if_none_match: str, etag: str) -> bool:
    candidates = {tag.strip() for tag in if_none_match.split(",")}
    return "*" in candidates or etag in candidates


def cacheable(
    request: Request[Any, Any, Any], body: Any, *, surrogate_keys: list[str], max_age: int = 60,
    s_maxage: int = 300, stale_while_revalidate: int = 600,
) -> Response[bytes]:
    """A public response a CDN may keep; 304 when the client already holds this exact body."""
    payload = _encoder.encode(body)
    etag = '"' + hashlib.sha256(payload).hexdigest()[:32] + '"'
    headers = {
        "Cache-Control": f"public, max-age={max_age}, s-maxage={s_maxage}, "
        f"stale-while-revalidate={stale_while_revalidate}",
        "ETag": etag,
        "Surrogate-Key": " ".join(surrogate_keys),
        "Vary": "Accept-Encoding",
    }
    if _matches(request.headers.get("if-none-match", ""), etag):
        return Response(b"", status_code=304, headers=headers)
    return Response(payload, media_type=MediaType.JSON, headers=headers)
