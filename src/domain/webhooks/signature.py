"""Webhook signatures: ``Emporium-Signature: v1=<hex HMAC-SHA256(secret, f"{timestamp}.{body}")>``.

Receivers: take the raw request body (bytes, before any JSON parsing), the
``Emporium-Timestamp`` header and the ``Emporium-Signature`` header, then::

    if not verify_signature(secret, timestamp, body, signature, now=int(time.time())):
        return 400
    # then deduplicate on the Emporium-Webhook-Id header: retries and replays repeat it.

The timestamp is signed too, so a captured request cannot be replayed later than
``tolerance`` seconds (five minutes by default) when ``now`` is given.
"""

from __future__ import annotations

import hashlib
import hmac

SCHEME = "v1"


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The ``Emporium-Signature`` header value for ``body`` sent at ``timestamp`` (Unix seconds)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"{SCHEME}={mac.hexdigest()}"


def verify_signature(
    secret: str, timestamp: int | str, body: bytes | str, header: str, *, now: int | None = None,
    tolerance: int = 300,
) -> bool:
    """True when ``header`` holds a valid ``v1=`` signature (of several, comma-separated, any may match)
    and, if ``now`` is given, ``timestamp`` is within ``tolerance`` seconds of it."""
    raw = body.encode() if isinstance(body, str) else body
    try:
        sent_at = int(timestamp)
    except (TypeError, ValueError):
        return False
    if now is not None and abs(now - sent_at) > tolerance:
        return False
    expected = sign(secret, sent_at, raw)
    candidates = [part.strip() for part in header.split(",")]
    return any(hmac.compare_digest(expected, c) for c in candidates if c.startswith(f"{SCHEME}="))
