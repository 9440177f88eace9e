"""The claims a process runs are renewed while they run, and only those: a claim whose process died
lapses a lease after its last renewal (the store's side is the port's contract suite)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from adapters.memory.idempotency import MemoryIdempotencyStore
from application.ports.idempotency import LEASE, Claim
from entrypoints.http.idempotency import WAIT_SECONDS, Leases
from tests.support.waiting import eventually


class Clock:
    def __init__(self) -> None:
        self.at = datetime(2026, 6, 1, 12, tzinfo=UTC)

    def now(self) -> datetime:
        return self.at


class FailingOnce(MemoryIdempotencyStore):
    """A store whose first renewal fails, as Redis does when it restarts."""

    def __init__(self) -> None:
        super().__init__()
        self.renewals = 0

    async def renew(self, *, claims, now) -> None:
        self.renewals += 1
        if self.renewals == 1:
            raise ConnectionError("Redis restarting")
        await super().renew(claims=claims, now=now)


async def _claim(store, key: str, at: datetime) -> Claim:
    return (await store.claim(scope="s", key=key, request_hash="h", now=at)).claim


async def test_what_runs_is_renewed_and_what_ended_is_not() -> None:
    store, clock, leases = MemoryIdempotencyStore(), Clock(), Leases()
    start = clock.at
    for key in ("running", "ended"):
        assert await _claim(store, key, start) is Claim.NEW
        leases.hold("s", key)
    leases.drop("s", "ended")
    clock.at = start + LEASE - timedelta(seconds=1)
    await leases.renew(store, clock)
    later = start + LEASE + timedelta(seconds=1)  # a lease since the claims, not since the renewal
    assert await _claim(store, "running", later) is Claim.RUNNING
    assert await _claim(store, "ended", later) is Claim.NEW  # its process stopped renewing it: taken over


async def test_a_key_held_twice_runs_until_both_let_go() -> None:
    leases = Leases()
    leases.hold("s", "k")
    leases.hold("s", "k")  # a takeover in the same process while the first still ran
    leases.drop("s", "k")
    assert leases.running() == [("s", "k")]
    leases.drop("s", "k")
    assert leases.running() == []


async def test_renewals_go_on_after_a_store_outage() -> None:
    store, clock, leases = FailingOnce(), Clock(), Leases()
    assert await _claim(store, "k", clock.at) is Claim.NEW
    leases.hold("s", "k")
    renewed_at = clock.at = clock.at + timedelta(seconds=4)
    keeping = asyncio.create_task(leases.keep(store, clock, every=0.01))
    try:
        await eventually(lambda: store.renewals >= 2, what="a renewal after the failed one")
        assert not keeping.done()  # the failure did not end the renewals
    finally:
        keeping.cancel()
    assert await _claim(store, "k", renewed_at + LEASE - timedelta(seconds=1)) is Claim.RUNNING


def test_a_retry_waits_long_enough_for_a_dead_claim_to_lapse() -> None:
    # A retry arriving just after its dead original's last renewal still takes it over within its wait.
    assert LEASE.total_seconds() < WAIT_SECONDS
