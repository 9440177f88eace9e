"""Analytics on the real stack: the store contract, POST /store/events, reports, and bad input."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from dependency_injector import providers
from litestar.testing import TestClient
from sqlalchemy import func, select

from adapters.memory.analytics import InlineTrackingQueue
from adapters.postgres import tables as t
from domain.analytics.tracking import Kind, TrackedEvent
from domain.staff.roles import Role
from entrypoints.http.app import create_app
from tests.support.http_app import make_container, settings_for, token_for


def tracked(kind: Kind, shopper: str, at: datetime | None = None) -> TrackedEvent:
    return TrackedEvent(
        id=uuid.uuid4().hex, kind=kind, occurred_at=at or datetime.now(UTC), anonymous_id=shopper
    )


async def test_tracked_events_are_stored_once_by_id(harness, unique) -> None:
    events = [tracked(Kind.PRODUCT_VIEWED, f"s-{unique}"), tracked(Kind.ADDED_TO_CART, f"s-{unique}")]
    async with harness.uow()() as tx:
        assert await tx.analytics.record_tracked(events) == 2
        await tx.commit()
    async with harness.uow()() as tx:
        assert await tx.analytics.record_tracked(events) == 0
        await tx.commit()


async def test_domain_event_facts_are_idempotent(harness, unique) -> None:
    fact = {
        "event_id": f"e-{unique}", "topic": "orders.order_paid.v1", "aggregate_id": f"o-{unique}",
        "occurred_at": datetime.now(UTC), "payload": {"total": 100},
    }
    today = datetime.now(UTC).date()
    async with harness.uow()() as tx:
        before = (await tx.analytics.funnel(today, today)).paid
        assert await tx.analytics.record_domain_event(**fact) is True
        assert await tx.analytics.record_domain_event(**fact) is False
        assert (await tx.analytics.funnel(today, today)).paid == before + 1


@pytest.fixture(scope="module")
def client(database_url: str, redis_url: str):
    container = make_container(settings_for(database_url, redis_url))
    # Store batches inline (the worker path is covered in test_outbox_to_read_model).
    container.tracking_queue.override(providers.Factory(InlineTrackingQueue, container.uow_factory))
    with TestClient(create_app(container, configure_logs=False)) as c:
        yield c


def _body(shopper: str, events: list[dict]) -> dict:
    return {"anonymous_id": shopper, "events": events}


def _event(kind: str, **fields) -> dict:
    return {"type": kind, "id": uuid.uuid4().hex, "occurred_at": datetime.now(UTC).isoformat(), **fields}


async def test_a_scripted_session_gives_the_expected_funnel_and_csv(client, engine, unique) -> None:
    token = await token_for(engine, Role.SUPPORT)
    auth = {"Authorization": f"Bearer {token}"}
    today = datetime.now(UTC).date().isoformat()
    before = client.get(f"/admin/reports/funnel?from={today}&to={today}", headers=auth).json()

    a, b = f"shopper-a-{unique}", f"shopper-b-{unique}"
    session_a = _body(a, [
        _event("page_viewed", path="/"), _event("product_viewed", product_id="prod-00001"),
        _event("added_to_cart", sku="TRAIL-RUNNER", quantity=1), _event("checkout_started"),
        _event("checkout_step_completed", step="address"),
    ])
    session_b = _body(b, [_event("search_performed", query="shoes", results=3),
                          _event("product_viewed", product_id="prod-00002")])
    for body in (session_a, session_b, session_a):  # session A is retried: no double counting
        response = client.post("/store/events", json=body)
        assert response.status_code == 202, response.text

    after = client.get(f"/admin/reports/funnel?from={today}&to={today}", headers=auth).json()
    assert after["viewed"] - before["viewed"] == 2
    assert after["added_to_cart"] - before["added_to_cart"] == 1
    assert after["checkout_started"] - before["checkout_started"] == 1

    csv = client.get(f"/admin/reports/funnel?from={today}&to={today}&format=csv", headers=auth)
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[0] == "viewed,added_to_cart,checkout_started,paid"
    assert client.get(f"/admin/reports/funnel?from={today}&to={today}").status_code == 401


@pytest.mark.parametrize(
    "events",
    [
        [{"type": "teleported", "id": "abcdefgh12", "occurred_at": "2026-01-01T00:00:00Z"}],
        [_event("product_viewed", product_id="prod-00001")] * 101,
        [_event("product_viewed", product_id="prod-00001", price=100)],
        [{**_event("product_viewed", product_id="prod-00001"), "occurred_at": "2099-01-01T00:00:00+00:00"}],
        [{**_event("product_viewed", product_id="prod-00001"), "occurred_at": "not a time"}],
        [],
    ],
    ids=["unknown-type", "oversized", "unknown-field", "future", "bad-timestamp", "empty"],
)
async def test_bad_tracking_input_is_a_problem_and_stores_nothing(client, engine, unique, events) -> None:
    shopper = f"bad-{unique}"
    response = client.post("/store/events", json=_body(shopper, events))
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    async with engine.connect() as conn:
        stored = await conn.scalar(
            select(func.count()).select_from(t.tracked_events).where(t.tracked_events.c.anonymous_id == shopper)
        )
    assert stored == 0


async def test_report_range_is_validated(client, engine) -> None:
    token = await token_for(engine, Role.OWNER)
    day = datetime.now(UTC).date()
    later = (day + timedelta(days=1)).isoformat()
    response = client.get(
        f"/admin/reports/funnel?from={later}&to={day.isoformat()}", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 400
    assert response.json()["type"].endswith("/validation-error")
    merchandiser = await token_for(engine, Role.MERCHANDISER)
    forbidden = client.get(
        f"/admin/reports/funnel?from={day}&to={day}", headers={"Authorization": f"Bearer {merchandiser}"}
    )
    assert forbidden.status_code == 403


async def test_search_terms_zero_result_terms_and_top_viewed(harness, unique) -> None:
    def search(query: str, results: int, shopper: str) -> TrackedEvent:
        return TrackedEvent(id=uuid.uuid4().hex, kind=Kind.SEARCH_PERFORMED, occurred_at=datetime.now(UTC),
                            anonymous_id=shopper, properties={"query": query, "results": results})

    def view(product: str, shopper: str) -> TrackedEvent:
        return TrackedEvent(id=uuid.uuid4().hex, kind=Kind.PRODUCT_VIEWED, occurred_at=datetime.now(UTC),
                            anonymous_id=shopper, properties={"product_id": product})

    shoes, typo = f"shoes{unique}", f"runing{unique}"
    events = [search(shoes, 12, "a"), search(f" {shoes.upper()} ", 12, "b"), search(typo, 0, "a"),
              view(f"p1-{unique}", "a"), view(f"p1-{unique}", "b"), view(f"p2-{unique}", "a")]
    async with harness.uow()() as tx:
        await tx.analytics.record_tracked(events)
        await tx.commit()
    today = datetime.now(UTC).date()
    async with harness.uow()() as tx:
        terms = {t.term: t for t in await tx.analytics.search_terms(today, today, zero_results=False, limit=1000)}
        zero = [t.term for t in await tx.analytics.search_terms(today, today, zero_results=True, limit=1000)]
        viewed = {v.product_id: v for v in await tx.analytics.top_viewed(today, today, limit=1000)}
    assert (terms[shoes].searches, terms[shoes].shoppers) == (2, 2)  # case and spaces folded
    assert typo in zero
    assert shoes not in zero
    assert (viewed[f"p1-{unique}"].views, viewed[f"p1-{unique}"].shoppers) == (2, 2)
    assert viewed[f"p2-{unique}"].views == 1


async def test_search_term_report_over_http_with_csv(client, engine, unique) -> None:
    auth = {"Authorization": f"Bearer {await token_for(engine, Role.MERCHANDISER)}"}
    term = f"zzz{unique}"
    assert client.post("/store/events", json=_body(f"s-{unique}", [
        _event("search_performed", query=term, results=0)])).status_code == 202
    today = datetime.now(UTC).date().isoformat()
    rows = client.get(f"/admin/reports/search-terms?from={today}&to={today}&zero_results=true&limit=1000",
                      headers=auth).json()
    assert {"term": term, "searches": 1, "shoppers": 1} in rows
    csv = client.get(f"/admin/reports/top-viewed?from={today}&to={today}&format=csv", headers=auth)
    assert csv.text.splitlines()[0] in ("product_id,views,shoppers", "")
