"""`emporium run` starts a dead child again: at once the first time, then after pauses that double
while it keeps dying young, and afresh once it had run a while (the processes: tests/e2e/test_front_door.py)."""

from __future__ import annotations

from entrypoints.cli.supervisor import Restarts


def test_a_child_that_keeps_dying_young_waits_longer_each_time_up_to_a_bound() -> None:
    restarts = Restarts(first=0.5, longest=4.0, settled=60.0)
    assert [restarts.pause_after("worker", lived=1.0) for _ in range(7)] == [0.0, 0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


def test_a_child_that_ran_a_while_starts_again_at_once() -> None:
    restarts = Restarts(first=0.5, longest=30.0, settled=60.0)
    assert [restarts.pause_after("api", lived) for lived in (1.0, 1.0, 59.9)] == [0.0, 0.5, 1.0]
    assert restarts.pause_after("api", lived=60.0) == 0.0  # it had settled: a new count
    assert restarts.pause_after("api", lived=2.0) == 0.5


def test_each_child_has_its_own_count() -> None:
    restarts = Restarts(first=0.5, longest=30.0, settled=60.0)
    assert restarts.pause_after("relay", lived=1.0) == 0.0
    assert restarts.pause_after("relay", lived=1.0) == 0.5
    assert restarts.pause_after("worker", lived=1.0) == 0.0
