"""A drop's waiting room (``domain/drops/waiting_room.py``, issue 22), on a hand-moved clock: the early
crowd drawn at random at opening, first come first served after, admission at the rate with a bounded
burst, and a sell-out told to everyone still waiting at once."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from domain.drops.waiting_room import Admission, Standing, WaitingRoom
from domain.shared.errors import InvalidInput

OPENS = datetime(2026, 12, 24, 9, tzinfo=UTC)


def seconds(n: float) -> datetime:
    return OPENS + timedelta(seconds=n)


def room(*, rate: float = 2.0, burst: int = 1) -> WaitingRoom:
    return WaitingRoom(drop_id="drop-1", opens_at=OPENS, rate=rate, burst=burst)


def positions(waiting: WaitingRoom, tickets: list[str]) -> dict[str, int | None]:
    return {t: waiting.standing(t).position for t in tickets}


def test_the_early_crowd_waits_unranked_and_is_ranked_by_the_draw_at_opening() -> None:
    waiting = room()
    early = [f"early-{n}" for n in range(20)]
    for ticket in early:
        assert waiting.join(ticket) == Standing(admission=Admission.WAITING)
    assert waiting.waiting == 20
    assert waiting.admit_due(now=seconds(-1)) == []  # nobody is let in before opening
    with pytest.raises(InvalidInput, match="not opened yet"):
        waiting.open(now=seconds(-0.001), draw=list)
    assert (waiting.drop_id, waiting.opened, waiting.sold_out) == ("drop-1", False, False)
    drawn = random.Random(7).sample(early, len(early))
    waiting.open(now=OPENS, draw=lambda tickets: random.Random(7).sample(tickets, len(tickets)))
    assert waiting.opened
    assert drawn != early  # the draw, not the order of arrival
    assert positions(waiting, early) == {t: drawn.index(t) + 1 for t in early}


def test_who_joins_after_opening_queues_behind_in_order_of_arrival() -> None:
    waiting = room()
    waiting.join("early-a")
    waiting.join("early-b")
    waiting.open(now=OPENS, draw=lambda tickets: list(reversed(tickets)))
    for ticket in ("late-1", "late-2", "late-3"):
        waiting.join(ticket)
    assert positions(waiting, ["early-b", "early-a", "late-1", "late-2", "late-3"]) == {
        "early-b": 1, "early-a": 2, "late-1": 3, "late-2": 4, "late-3": 5}
    assert waiting.join("late-1").position == 3  # joining again keeps the place
    assert waiting.waiting == 5


def test_opening_again_draws_nothing_again_and_a_draw_must_return_each_ticket_once() -> None:
    waiting = room()
    for ticket in ("a", "b", "c"):
        waiting.join(ticket)
    with pytest.raises(ValueError, match="each once"):
        waiting.open(now=OPENS, draw=lambda tickets: ["a", "a", "b"])
    with pytest.raises(ValueError, match="each once"):
        waiting.open(now=OPENS, draw=lambda tickets: ["a", "b"])
    waiting.open(now=OPENS, draw=list)
    waiting.open(now=seconds(5), draw=lambda tickets: list(reversed(tickets)))
    assert positions(waiting, ["a", "b", "c"]) == {"a": 1, "b": 2, "c": 3}


def test_admission_follows_the_rate_and_a_quiet_spell_saves_up_no_more_than_the_burst() -> None:
    waiting = room(rate=2.0, burst=1)
    tickets = [f"t{n}" for n in range(10)]
    for ticket in tickets:
        waiting.join(ticket)
    waiting.open(now=OPENS, draw=list)
    assert waiting.admit_due(now=OPENS) == []
    assert waiting.admit_due(now=seconds(0.4)) == []
    assert waiting.admit_due(now=seconds(0.5)) == ["t0"]
    assert waiting.admit_due(now=seconds(0.5)) == []
    assert waiting.admit_due(now=seconds(0.3)) == []  # a clock read late earns nothing
    assert waiting.admit_due(now=seconds(1.0)) == ["t1"]
    assert waiting.admit_due(now=seconds(60)) == ["t2"]  # a minute's pause: still one at a time
    assert waiting.standing("t2").admission is Admission.ADMITTED
    assert waiting.standing("t3") == Standing(admission=Admission.WAITING, position=1, wait_seconds=1)
    assert waiting.waiting == 7


def test_by_default_a_room_lets_one_in_at_a_time() -> None:
    waiting = WaitingRoom(drop_id="drop-1", opens_at=OPENS, rate=10.0)
    for n in range(3):
        waiting.join(f"t{n}")
    waiting.open(now=OPENS, draw=list)
    assert waiting.admit_due(now=seconds(60)) == ["t0"]


def test_a_burst_lets_that_many_in_at_once_and_no_more() -> None:
    waiting = room(rate=4.0, burst=3)
    for n in range(10):
        waiting.join(f"t{n}")
    waiting.open(now=OPENS, draw=list)
    assert waiting.admit_due(now=seconds(0.5)) == ["t0", "t1"]
    assert waiting.admit_due(now=seconds(30)) == ["t2", "t3", "t4"]
    admitted = 5
    for step in range(1, 21):  # over any stretch: at most the burst plus the rate times its length
        admitted += len(waiting.admit_due(now=seconds(30 + step * 0.1)))
        assert admitted - 5 <= 3 + 4.0 * step * 0.1
    assert admitted == 10


def test_a_ceiling_stops_admission_where_it_stands_and_the_rate_resumes_when_it_rises() -> None:
    waiting = room(rate=2.0, burst=4)
    for n in range(10):
        waiting.join(f"t{n}")
    waiting.open(now=OPENS, draw=list)
    assert waiting.admit_due(now=seconds(1), ceiling=3) == ["t0", "t1"]
    assert waiting.admit_due(now=seconds(2), ceiling=3) == ["t2"]  # two owed, room for one
    assert waiting.admitted == 3
    assert waiting.admit_due(now=seconds(3), ceiling=3) == []  # reached: the owed ones wait
    assert waiting.admit_due(now=seconds(4), ceiling=1) == []  # passed (units sold meanwhile): nobody
    assert waiting.standing("t3") == Standing(admission=Admission.WAITING, position=1, wait_seconds=0)
    held = Standing(admission=Admission.WAITING, position=1)  # held back: no wait the rate could tell
    assert (waiting.standing("t3", ceiling=3), waiting.standing("t3", ceiling=1)) == (held, held)
    assert waiting.standing("t4", ceiling=4) == Standing(admission=Admission.WAITING, position=2)
    assert waiting.standing("t3", ceiling=4) == Standing(admission=Admission.WAITING, position=1, wait_seconds=0)
    assert waiting.join("t9", ceiling=3) == Standing(admission=Admission.WAITING, position=7)
    assert waiting.admit_due(now=seconds(4), ceiling=20) == ["t3", "t4", "t5", "t6"]  # the burst, no more
    assert waiting.admit_due(now=seconds(4.5), ceiling=None) == ["t7"]  # no ceiling: the rate alone
    assert waiting.admit_due(now=seconds(4.5), ceiling=0) == []
    assert waiting.admitted == 8


def test_a_ceiling_of_nothing_admits_nobody_however_long_the_wait() -> None:
    waiting = room(rate=100.0, burst=200)
    waiting.join("a")
    waiting.open(now=OPENS, draw=list)
    assert waiting.admit_due(now=seconds(60), ceiling=0) == []
    assert waiting.standing("a").admission is Admission.WAITING
    assert waiting.admit_due(now=seconds(61), ceiling=1) == ["a"]


def test_the_wait_is_estimated_from_the_position_the_rate_and_what_is_already_owed() -> None:
    waiting = room(rate=0.5, burst=4)
    for n in range(6):
        waiting.join(f"t{n}")
    waiting.open(now=OPENS, draw=list)
    assert [waiting.standing(f"t{n}").wait_seconds for n in range(3)] == [2, 4, 6]
    waiting.admit_due(now=seconds(3))  # 1.5 admissions owed: t0 in, half a place owed to t1
    assert waiting.standing("t1") == Standing(admission=Admission.WAITING, position=1, wait_seconds=1)
    assert waiting.standing("t5").wait_seconds == 9


def test_a_ticket_owed_a_whole_place_waits_no_longer() -> None:
    waiting = room(rate=1.0, burst=5)
    waiting.open(now=OPENS, draw=list)
    waiting.admit_due(now=seconds(10))  # nobody there: five admissions owed
    waiting.join("first")
    assert waiting.standing("first") == Standing(admission=Admission.WAITING, position=1, wait_seconds=0)
    assert waiting.admit_due(now=seconds(10)) == ["first"]


def test_a_sell_out_is_told_to_everyone_waiting_at_once_and_to_everyone_after() -> None:
    waiting = room(rate=1.0)
    for ticket in ("a", "b", "c"):
        waiting.join(ticket)
    waiting.open(now=OPENS, draw=list)
    assert waiting.admit_due(now=seconds(1)) == ["a"]
    waiting.sell_out()
    assert waiting.sold_out
    assert waiting.standing("a").admission is Admission.ADMITTED  # the stock hold decides what a is sold
    assert [waiting.standing(t) for t in ("b", "c")] == [Standing(admission=Admission.SOLD_OUT)] * 2
    assert waiting.join("d") == Standing(admission=Admission.SOLD_OUT)
    assert waiting.admit_due(now=seconds(100)) == []
    assert waiting.waiting == 0


def test_a_sell_out_before_opening_tells_the_early_crowd_too() -> None:
    waiting = room()
    waiting.join("early")
    waiting.sell_out()
    assert waiting.standing("early") == Standing(admission=Admission.SOLD_OUT)


@pytest.mark.parametrize(("opens_at", "rate", "burst", "why"), [
    (datetime(2026, 12, 24, 9), 1.0, 1, "timezone-aware"),  # naive: the point
    (OPENS, 0.0, 1, "positive"),
    (OPENS, -1.0, 1, "positive"),
    (OPENS, 1.0, 0, "at least 1"),
])
def test_a_room_needs_an_aware_opening_a_positive_rate_and_a_burst(opens_at, rate, burst, why) -> None:
    with pytest.raises(InvalidInput, match=why):
        WaitingRoom(drop_id="d", opens_at=opens_at, rate=rate, burst=burst)


def test_an_unknown_ticket_has_no_standing() -> None:
    with pytest.raises(InvalidInput, match="no ticket"):
        room().standing("nobody")
