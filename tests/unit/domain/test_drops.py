"""A drop's terms and life (``domain/drops/drop.py``, issue 22): scheduled for the future with sound
terms, edited only before it opens, cancelled until it ends, sold out once, and the phase a storefront
shows at any moment."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from domain.drops.drop import Drop, DropPhase, DropTerms
from domain.shared.errors import Conflict, InvalidInput

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
OPENS = datetime(2026, 12, 24, 8, tzinfo=UTC)
TERMS = DropTerms(name="Winter runner", skus=("RUN-1", "RUN-2"), opens_at=OPENS, time_zone="Europe/Berlin",
                  ends_at=OPENS + timedelta(hours=2), per_customer_limit=2, online_payment_only=True,
                  admission_rate=50.0)


def scheduled() -> Drop:
    drop = Drop.schedule(id="drop-1", terms=TERMS, now=NOW)
    drop.pull_events()
    return drop


def test_a_scheduled_drop_is_upcoming_then_open_then_ended_and_shows_its_opening_in_its_time_zone() -> None:
    drop = Drop.schedule(id="drop-1", terms=TERMS, now=NOW)
    [event] = drop.pull_events()
    assert (event.topic, event.aggregate_id, event.aggregate_version, event.occurred_at) == (
        "drops.drop_scheduled.v1", "drop-1", 1, NOW)
    assert (event.skus, event.opens_at, event.ends_at) == (TERMS.skus, OPENS, TERMS.ends_at)
    assert drop.phase(NOW) is DropPhase.UPCOMING
    assert drop.phase(OPENS - timedelta(microseconds=1)) is DropPhase.UPCOMING
    assert drop.phase(OPENS) is DropPhase.OPEN
    assert drop.phase(OPENS + timedelta(hours=2) - timedelta(microseconds=1)) is DropPhase.OPEN
    assert drop.phase(OPENS + timedelta(hours=2)) is DropPhase.ENDED
    assert drop.opening_local().isoformat() == "2026-12-24T09:00:00+01:00"
    assert (drop.cancelled_at, drop.sold_out_at) == (None, None)


def test_a_drop_without_an_end_stays_open_until_it_sells_out() -> None:
    drop = Drop.schedule(id="drop-1", terms=replace(TERMS, ends_at=None), now=NOW)
    assert drop.phase(OPENS + timedelta(days=365)) is DropPhase.OPEN
    drop.sell_out(now=OPENS + timedelta(days=365))
    assert drop.phase(OPENS + timedelta(days=366)) is DropPhase.SOLD_OUT


@pytest.mark.parametrize(("change", "why"), [
    ({"name": "  "}, "needs a name"),
    ({"skus": ()}, "at least one SKU"),
    ({"skus": ("RUN-1", "RUN-1")}, "each SKU once"),
    ({"opens_at": datetime(2026, 12, 24, 8)}, "timezone-aware"),  # naive
    ({"ends_at": datetime(2026, 12, 24, 10)}, "timezone-aware"),  # naive
    ({"opens_at": NOW}, "in the future"),
    ({"opens_at": NOW - timedelta(days=1), "ends_at": None}, "in the future"),
    ({"ends_at": OPENS}, "ends after it opens"),
    ({"ends_at": OPENS - timedelta(minutes=1)}, "ends after it opens"),
    ({"per_customer_limit": 0}, "at least 1 unit"),
    ({"admission_rate": 0.0}, "positive"),
    ({"admission_rate": -5.0}, "positive"),
    ({"time_zone": "Mars/Olympus"}, "unknown time zone"),
    ({"time_zone": "../etc"}, "unknown time zone"),
])
def test_unsound_terms_are_refused_with_what_is_wrong(change, why) -> None:
    with pytest.raises(InvalidInput, match=why):
        Drop.schedule(id="drop-1", terms=replace(TERMS, **change), now=NOW)


def test_the_least_terms_are_enough() -> None:
    terms = DropTerms(name="x", skus=("A",), opens_at=NOW + timedelta(microseconds=1), time_zone="UTC",
                      per_customer_limit=1)
    drop = Drop.schedule(id="d", terms=terms, now=NOW)
    assert (drop.id, drop.terms.waiting_room, drop.terms.online_payment_only, drop.terms.admission_rate) == (
        "d", True, False, None)
    slow = Drop.schedule(id="d", terms=replace(terms, admission_rate=0.5), now=NOW)  # one shopper every 2 s
    assert slow.terms.admission_rate == 0.5


def test_a_drop_read_back_from_storage_is_what_it_was() -> None:
    cancelled = Drop(id="d", terms=TERMS, cancelled_at=NOW, version=3)
    sold_out = Drop(id="e", terms=TERMS, sold_out_at=OPENS, version=2)
    assert (cancelled.id, cancelled.cancelled_at, cancelled.version, cancelled.phase(OPENS)) == (
        "d", NOW, 3, DropPhase.CANCELLED)
    assert (sold_out.id, sold_out.sold_out_at, sold_out.phase(OPENS)) == ("e", OPENS, DropPhase.SOLD_OUT)


def test_terms_are_edited_until_the_drop_opens_and_an_edit_that_changes_nothing_says_nothing() -> None:
    drop = scheduled()
    later = replace(TERMS, opens_at=OPENS + timedelta(hours=1), ends_at=OPENS + timedelta(hours=4),
                    per_customer_limit=1)
    drop.edit(later, now=NOW)
    [event] = drop.pull_events()
    assert (event.topic, event.aggregate_id, event.aggregate_version, event.occurred_at) == (
        "drops.drop_edited.v1", "drop-1", 2, NOW)
    assert (event.opens_at, event.ends_at, event.skus) == (later.opens_at, later.ends_at, later.skus)
    assert drop.terms == later
    drop.edit(later, now=NOW)
    assert (drop.pull_events(), drop.version) == ([], 2)
    with pytest.raises(InvalidInput, match="in the future"):
        drop.edit(replace(later, opens_at=NOW), now=NOW)
    with pytest.raises(Conflict, match="is open"):
        drop.edit(TERMS, now=later.opens_at)
    assert drop.terms == later


def test_a_drop_is_cancelled_until_it_ends_once_and_then_shows_cancelled() -> None:
    drop = scheduled()
    drop.cancel(now=OPENS + timedelta(minutes=5))  # an open drop may be called off
    [event] = drop.pull_events()
    assert (event.topic, event.aggregate_id, event.aggregate_version, event.occurred_at, event.skus) == (
        "drops.drop_cancelled.v1", "drop-1", 2, OPENS + timedelta(minutes=5), TERMS.skus)
    drop.cancel(now=OPENS + timedelta(minutes=6))
    assert drop.pull_events() == []
    assert drop.cancelled_at == OPENS + timedelta(minutes=5)
    assert drop.phase(NOW) is drop.phase(OPENS + timedelta(days=9)) is DropPhase.CANCELLED
    with pytest.raises(Conflict, match="is cancelled"):
        drop.edit(TERMS, now=NOW)
    ended = scheduled()
    with pytest.raises(Conflict, match="has ended"):
        ended.cancel(now=OPENS + timedelta(hours=2))
    assert ended.cancelled_at is None


def test_an_open_drop_sells_out_once_and_nothing_else_does() -> None:
    drop = scheduled()
    drop.sell_out(now=NOW)  # not open yet: nothing to sell out
    drop.sell_out(now=OPENS + timedelta(hours=2))  # ended
    assert (drop.pull_events(), drop.sold_out_at) == ([], None)
    drop.sell_out(now=OPENS + timedelta(minutes=1))
    drop.sell_out(now=OPENS + timedelta(minutes=2))
    [event] = drop.pull_events()
    assert (event.topic, event.aggregate_id, event.aggregate_version, event.occurred_at, event.skus) == (
        "drops.drop_sold_out.v1", "drop-1", 2, OPENS + timedelta(minutes=1), TERMS.skus)
    assert drop.phase(OPENS + timedelta(minutes=3)) is DropPhase.SOLD_OUT
    assert drop.phase(OPENS + timedelta(hours=2)) is DropPhase.ENDED  # an end still ends it
    with pytest.raises(Conflict, match="is sold_out"):
        drop.edit(TERMS, now=OPENS + timedelta(minutes=3))
