"""``retry_on_conflict``: the one helper that runs a transaction again when a concurrent save won."""

from __future__ import annotations

import pytest

from application.messaging.retry import expect_version, retry_on_conflict
from domain.shared.errors import ConcurrencyConflict, Conflict
from tests.support.orders import new_order


def losing(times: int, result: str = "done"):
    """A transaction that loses the race ``times`` times, then wins; ``runs`` counts its runs."""
    runs: list[int] = []

    async def transaction() -> str:
        runs.append(len(runs) + 1)
        if len(runs) <= times:
            raise ConcurrencyConflict("someone else saved first")
        return result

    return transaction, runs


async def test_a_transaction_that_lost_a_race_runs_again_until_it_wins() -> None:
    transaction, runs = losing(2)
    assert await retry_on_conflict(transaction) == "done"
    assert runs == [1, 2, 3]


async def test_it_gives_up_after_the_last_attempt_with_the_conflict() -> None:
    transaction, runs = losing(10)
    with pytest.raises(ConcurrencyConflict, match="someone else saved first"):
        await retry_on_conflict(transaction, attempts=3)
    assert runs == [1, 2, 3]


@pytest.mark.parametrize("error", [Conflict("a duplicate"), ValueError("a bug")])
async def test_any_other_error_is_raised_at_once(error: Exception) -> None:
    runs = 0

    async def transaction() -> None:
        nonlocal runs
        runs += 1
        raise error

    with pytest.raises(type(error)):
        await retry_on_conflict(transaction)
    assert runs == 1


def test_a_callers_expected_version_is_checked_against_the_version_loaded() -> None:
    order = new_order("v")
    expect_version(order, None, what="order")  # no expectation: nothing to check
    expect_version(order, order.version, what="order")
    with pytest.raises(ConcurrencyConflict, match=f"order {order.id} is at version 1, not 0"):
        expect_version(order, 0, what="order")
