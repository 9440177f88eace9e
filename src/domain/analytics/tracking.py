"""What a storefront may report about a shopper's session, and when a batch is acceptable."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum

from domain.shared.errors import InvalidInput

MAX_BATCH = 100
MAX_FUTURE_SKEW = timedelta(minutes=5)
MAX_AGE = timedelta(days=7)


class TrackingError(InvalidInput):
    """A tracked batch breaks a rule; nothing of it is stored."""


class Kind(Enum):
    PAGE_VIEWED = "page_viewed"
    PRODUCT_VIEWED = "product_viewed"
    SEARCH_PERFORMED = "search_performed"
    RESULT_CLICKED = "result_clicked"
    ADDED_TO_CART = "added_to_cart"
    REMOVED_FROM_CART = "removed_from_cart"
    CHECKOUT_STARTED = "checkout_started"
    CHECKOUT_STEP_COMPLETED = "checkout_step_completed"


@dataclass(frozen=True, slots=True, kw_only=True)
class TrackedEvent:
    """One thing a shopper did, as the storefront saw it. ``id`` is the client's dedup key."""

    id: str
    kind: Kind
    occurred_at: datetime
    anonymous_id: str
    customer_id: str | None = None
    properties: dict[str, str | int | float | bool | None] = field(default_factory=dict)


def check_batch(events: list[TrackedEvent], *, now: datetime) -> None:
    """All or nothing: refuse the whole batch if one event is off (size, clock, duplicates)."""
    if not events:
        raise TrackingError("a batch needs at least one event")
    if len(events) > MAX_BATCH:
        raise TrackingError(f"a batch holds at most {MAX_BATCH} events, got {len(events)}")
    if len({e.id for e in events}) != len(events):
        raise TrackingError("event ids repeat within the batch")
    for index, event in enumerate(events):
        if event.occurred_at.tzinfo is None:
            raise TrackingError(f"events[{index}].occurred_at needs a timezone")
        if event.occurred_at > now + MAX_FUTURE_SKEW:
            raise TrackingError(f"events[{index}].occurred_at is in the future")
        if event.occurred_at < now - MAX_AGE:
            raise TrackingError(f"events[{index}].occurred_at is older than {MAX_AGE.days} days")
