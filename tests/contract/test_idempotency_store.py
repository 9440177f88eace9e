"""The IdempotencyStore contract (``IdempotencyStoreContract``) on the in-memory fake and on PostgreSQL:
one claim runs, repeats replay, a dead claim is taken over."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adapters.memory.idempotency import MemoryIdempotencyStore
from adapters.postgres.idempotency import PostgresIdempotencyStore
from application.ports.idempotency import Claim, StoredResponse

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


class IdempotencyStoreContract:
    """What every IdempotencyStore does alike. A subclass provides ``store``: a store of its kind."""

    @pytest.fixture
    def store(self):
        raise NotImplementedError("a subclass provides the adapter under test")

    async def test_claims_replays_mismatches_and_takeover(self, store, unique) -> None:
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

    async def test_an_abandoned_claim_lets_the_key_run_again(self, store, unique) -> None:
        assert (await store.claim(scope=unique, key="k", request_hash="a", now=NOW)).claim is Claim.NEW
        await store.abandon(scope=unique, key="k")  # the request failed on our side: the client may retry
        assert (await store.claim(scope=unique, key="k", request_hash="b", now=NOW)).claim is Claim.NEW

    async def test_a_key_belongs_to_its_scope(self, store, unique) -> None:
        assert (await store.claim(scope=f"{unique}-1", key="k", request_hash="a", now=NOW)).claim is Claim.NEW
        assert (await store.claim(scope=f"{unique}-2", key="k", request_hash="b", now=NOW)).claim is Claim.NEW
        assert (await store.claim(scope=f"{unique}-1", key="k", request_hash="b", now=NOW)).claim is Claim.MISMATCH


class TestMemoryIdempotencyStore(IdempotencyStoreContract):
    @pytest.fixture
    def store(self) -> MemoryIdempotencyStore:
        return MemoryIdempotencyStore()


class TestPostgresIdempotencyStore(IdempotencyStoreContract):
    @pytest.fixture
    def store(self, engine) -> PostgresIdempotencyStore:
        return PostgresIdempotencyStore(engine)
