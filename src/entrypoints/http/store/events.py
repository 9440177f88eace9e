"""POST /store/events: typed storefront tracking, checked now, stored by a worker (202)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, post
from litestar.params import JSONBody
from msgspec import Meta

from application.analytics.errors import TrackingRateLimited
from application.analytics.handlers import TrackEvents
from domain.analytics.tracking import MAX_BATCH, Kind, TrackedEvent
from entrypoints.http.addresses import client_address
from entrypoints.http.decoding import BEACON
from entrypoints.http.store.identity import shopper

Id = Annotated[str, Meta(pattern=r"^[A-Za-z0-9_-]{8,64}$")]
Text = Annotated[str, Meta(max_length=200)]
PerMinute = 600


class _Event(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, tag_field="type"):
    id: Id
    occurred_at: datetime


class PageViewed(_Event, tag="page_viewed"):
    path: Text


class ProductViewed(_Event, tag="product_viewed"):
    product_id: Id


class SearchPerformed(_Event, tag="search_performed"):
    query: Text
    results: Annotated[int, Meta(ge=0)]


class ResultClicked(_Event, tag="result_clicked"):
    query: Text
    product_id: Id
    position: Annotated[int, Meta(ge=0)]


class AddedToCart(_Event, tag="added_to_cart"):
    sku: Text
    quantity: Annotated[int, Meta(ge=1, le=1000)]


class RemovedFromCart(_Event, tag="removed_from_cart"):
    sku: Text
    quantity: Annotated[int, Meta(ge=1, le=1000)]


class CheckoutStarted(_Event, tag="checkout_started"):
    checkout_id: Id | None = None


class CheckoutStepCompleted(_Event, tag="checkout_step_completed"):
    step: Annotated[str, Meta(pattern=r"^(contact|address|shipping|payment)$")]


StorefrontEvent = (
    PageViewed | ProductViewed | SearchPerformed | ResultClicked | AddedToCart | RemovedFromCart
    | CheckoutStarted | CheckoutStepCompleted
)


class EventBatch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    anonymous_id: Id
    events: Annotated[list[StorefrontEvent], Meta(min_length=1, max_length=MAX_BATCH)]


class Accepted(msgspec.Struct, kw_only=True):
    accepted: int


def to_tracked(batch: EventBatch, customer_id: str | None) -> list[TrackedEvent]:
    tracked = []
    for event in batch.events:
        properties: dict[str, Any] = {
            f: getattr(event, f) for f in event.__struct_fields__ if f not in {"id", "occurred_at"}
        }
        tracked.append(
            TrackedEvent(
                id=event.id, kind=Kind(event.__struct_config__.tag), occurred_at=event.occurred_at,
                anonymous_id=batch.anonymous_id, customer_id=customer_id, properties=properties,
            )
        )
    return tracked


class StoreEventsController(Controller):
    path = "/store/events"
    tags = ["store: analytics"]

    # navigator.sendBeacon sends its JSON as text/plain: accepted here, and only here (append-only analytics).
    @post("/", operation_id="store_track_events", status_code=202, opt={BEACON: True})
    async def track(self, request: Request[Any, Any, Any], data: JSONBody[EventBatch]) -> Accepted:
        container = request.app.state.container
        client = client_address(request)
        decision = await container.rate_limiter().hit(f"track:{client}", limit=PerMinute, window_seconds=60)
        if not decision.allowed:
            raise TrackingRateLimited("Too many tracking requests", retry_after=decision.retry_after)
        customer_id = (await shopper(request)).customer_id  # the signed-in customer, when there is one
        accepted = await container.bus().handle(TrackEvents(events=to_tracked(data, customer_id)))
        return Accepted(accepted=accepted)
