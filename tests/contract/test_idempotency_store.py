"""The PostgreSQL idempotency-key store: one claim runs, repeats replay, a dead claim is taken over."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from adapters.postgres.idempotency import PostgresIdempotencyStore
from application.ports.idempotency import Claim, StoredResponse

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


async def test_claims_replays_mismatches_and_takeover(engine, unique) -> None:
    store = PostgresIdempotencyStore(engine)
    first = await store.claim(scope=unique, key="k", request_hash="a", now=NOW)
    assert first.claim is Claim.NEW
    assert (await store.claim(scope=unique, key="k", request_hash="a", now=NOW)).claim is Claim.RUNNING
    assert (await store.claim(scope=unique, key="k", request_hash="b", now=NOW)).claim is Claim.MISMATCH
    # The first request's process died: after the lease the same request may run again, once.
    later = NOW + timedelta(minutes=3)
    assert (await store.claim(scope=unique, key="k", request_hash="a", now=later)).claim is Claim.NEW
    assert (await store.claim(scope=unique, key="k", request_hash="a", now=later)).claim is Claim.RUNNING
    await store.finish(scope=unique, key="k", response=StoredResponse(status=201, headers=[("x", "1")], body=b"ok"))
    replay = await store.claim(scope=unique, key="k", request_hash="a", now=later)
    assert replay.claim is Claim.REPLAY
    assert replay.response == StoredResponse(status=201, headers=[("x", "1")], body=b"ok")
    await store.abandon(scope=unique, key="k")  # a finished key is kept
    assert (await store.claim(scope=unique, key="k", request_hash="a", now=later)).claim is Claim.REPLAY
    assert await store.prune(before=later + timedelta(days=2)) >= 1
