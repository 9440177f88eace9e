"""Filtering and keyset cursors of the order list, shared by every ``OrderViews`` adapter."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from domain.shared.errors import InvalidInput


def encode_cursor(placed_at: datetime, order_id: str) -> str:
    raw = json.dumps([placed_at.isoformat(), order_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        placed_at, order_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return datetime.fromisoformat(placed_at), str(order_id)
    except (ValueError, TypeError) as error:
        raise InvalidInput("invalid cursor") from error


def matches(summary: Any, query: Any) -> bool:
    return (
        (query.status is None or summary.status == query.status)
        and (query.customer_id is None or summary.customer_id == query.customer_id)
        and (query.placed_from is None or summary.placed_at >= query.placed_from)
        and (query.placed_to is None or summary.placed_at < query.placed_to)
        and (query.min_total is None or summary.total >= query.min_total)
        and (query.max_total is None or summary.total <= query.max_total)
    )


def cursor_after(summary: Any, cursor: str | None) -> bool:
    """Newest first: rows strictly after the cursor's (placed_at, id)."""
    if cursor is None:
        return True
    placed_at, order_id = decode_cursor(cursor)
    return (summary.placed_at, summary.id) < (placed_at, order_id)


def next_cursor(items: list[Any], *, more: bool) -> str | None:
    return encode_cursor(items[-1].placed_at, items[-1].id) if more and items else None
