"""Drops for merchandisers, through the bus with the in-memory fakes: schedule, read, edit, cancel."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from application.catalog.commands import CreateProduct
from application.drops import handlers as d
from domain.drops.drop import DropNotFound, DropTerms
from domain.shared.errors import Conflict, InvalidInput
from tests.support.unit import Shop, build_shop, peek_outbox

OPENS = datetime(2026, 6, 2, 9, tzinfo=UTC)  # the shop's clock starts 2026-06-01 12:00 UTC


def terms(**change: object) -> DropTerms:
    base = DropTerms(name="Spring sneaker", skus=("SNKR-1",), opens_at=OPENS, time_zone="Europe/Berlin",
                     per_customer_limit=2, online_payment_only=True)
    return replace(base, **change)  # type: ignore[arg-type]


@pytest.fixture
async def shop() -> Shop:
    shop = build_shop()
    for name, sku in (("Sneaker", "SNKR-1"), ("Boot", "BOOT-1")):
        await shop.bus.handle(CreateProduct(name=name, sku=sku, price_amount=19900, currency="EUR", status="active"))
    return shop


async def test_a_scheduled_drop_is_upcoming_shown_in_its_time_zone_at_the_shop_capacity(shop) -> None:
    drop = await shop.bus.handle(d.ScheduleDrop(terms=terms()))
    assert drop["phase"] == "upcoming"
    assert drop["opens_at_local"] == "2026-06-02T11:00:00+02:00"  # Berlin in summer
    assert (drop["admission_rate"], drop["effective_admission_rate"]) == (None, 50.0)
    assert await shop.bus.handle(d.GetDrop(drop_id=drop["id"])) == drop
    assert [x["id"] for x in await shop.bus.handle(d.ListDrops())] == [drop["id"]]


async def test_the_phase_follows_the_clock_and_the_list_puts_the_latest_opening_first(shop) -> None:
    early = await shop.bus.handle(d.ScheduleDrop(terms=terms(ends_at=OPENS + timedelta(hours=1))))
    late = await shop.bus.handle(d.ScheduleDrop(terms=terms(skus=("BOOT-1",), opens_at=OPENS + timedelta(days=1))))
    assert [x["id"] for x in await shop.bus.handle(d.ListDrops())] == [late["id"], early["id"]]
    shop.clock.set(OPENS)
    assert (await shop.bus.handle(d.GetDrop(drop_id=early["id"])))["phase"] == "open"
    shop.clock.set(OPENS + timedelta(hours=1))
    assert (await shop.bus.handle(d.GetDrop(drop_id=early["id"])))["phase"] == "ended"


async def test_unknown_skus_and_a_sku_already_in_a_live_drop_are_refused(shop) -> None:
    with pytest.raises(InvalidInput, match="no product sells NOPE-1"):
        await shop.bus.handle(d.ScheduleDrop(terms=terms(skus=("SNKR-1", "NOPE-1"))))
    first = await shop.bus.handle(d.ScheduleDrop(terms=terms()))
    with pytest.raises(Conflict, match=f"SNKR-1 already sell.* in drop {first['id']}"):
        await shop.bus.handle(d.ScheduleDrop(terms=terms(skus=("BOOT-1", "SNKR-1"))))
    await shop.bus.handle(d.CancelDrop(drop_id=first["id"]))
    again = await shop.bus.handle(d.ScheduleDrop(terms=terms()))  # a cancelled drop sells nothing
    assert again["phase"] == "upcoming"
    assert len(await shop.bus.handle(d.ListDrops())) == 2


async def test_an_ended_drop_frees_its_skus_for_the_next_one(shop) -> None:
    await shop.bus.handle(d.ScheduleDrop(terms=terms(ends_at=OPENS + timedelta(hours=1))))
    shop.clock.set(OPENS + timedelta(hours=1))
    later = await shop.bus.handle(d.ScheduleDrop(terms=terms(opens_at=OPENS + timedelta(days=2))))
    assert later["phase"] == "upcoming"


async def test_editing_changes_the_terms_until_opening_and_refuses_a_stale_version(shop) -> None:
    drop = await shop.bus.handle(d.ScheduleDrop(terms=terms()))
    edited = await shop.bus.handle(d.EditDrop(
        drop_id=drop["id"], terms=terms(per_customer_limit=1, admission_rate=50.0), expected_version=drop["version"]))
    assert (edited["per_customer_limit"], edited["effective_admission_rate"]) == (1, 50.0)
    assert edited["version"] == drop["version"] + 1
    with pytest.raises(Conflict, match="changed since version"):
        await shop.bus.handle(d.EditDrop(drop_id=drop["id"], terms=terms(), expected_version=drop["version"]))
    with pytest.raises(InvalidInput, match="no product sells"):
        await shop.bus.handle(d.EditDrop(drop_id=drop["id"], terms=terms(skus=("GONE-1",))))
    assert (await shop.bus.handle(d.GetDrop(drop_id=drop["id"])))["per_customer_limit"] == 1  # nothing changed
    shop.clock.set(OPENS)
    with pytest.raises(Conflict, match="only an upcoming drop can be edited"):
        await shop.bus.handle(d.EditDrop(drop_id=drop["id"], terms=terms(opens_at=OPENS + timedelta(days=1))))


async def test_cancelling_is_said_once_and_an_unknown_drop_is_not_found(shop) -> None:
    drop = await shop.bus.handle(d.ScheduleDrop(terms=terms()))
    cancelled = await shop.bus.handle(d.CancelDrop(drop_id=drop["id"]))
    again = await shop.bus.handle(d.CancelDrop(drop_id=drop["id"]))
    assert (cancelled["phase"], again) == ("cancelled", cancelled)
    topics = [m.topic for m in await peek_outbox(shop.outbox) if m.aggregate_id == drop["id"]]
    assert topics == ["drops.drop_scheduled.v1", "drops.drop_cancelled.v1"]
    with pytest.raises(DropNotFound):
        await shop.bus.handle(d.GetDrop(drop_id="nope"))
