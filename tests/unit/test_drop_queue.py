"""A drop's waiting room from the storefront's side, through the bus with the in-memory fakes and the fake
clock: joining, the draw at opening, admission at the rate, the admission token the cart and the payment
ask for (forged, expired, another shopper's, replayed by a second checkout: refused), sell-out told to
everyone waiting, and a room rebuilt from the recorded tickets after it was lost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adapters.memory.waiting_rooms import MemoryWaitingRooms
from application.carts import commands as cart
from application.catalog.commands import CreateProduct
from application.checkout import commands as co
from application.drops import handlers as d
from application.drops.admission import AdmissionTokens, holder_of, ticket_for
from application.drops.errors import AdmissionRefused, AdmissionRequired, DropNotOpen, NoWaitingRoom
from application.drops.queue import JoinQueue, ReadQueue, retry_after
from domain.carts.cart import Owner
from domain.drops.drop import DropNotFound, DropTerms
from domain.inventory.errors import OutOfStock
from tests.support.unit import BERLIN, Shop, available, build_shop, stock

OPENS = datetime(2026, 6, 1, 13, tzinfo=UTC)  # an hour after the shop's clock starts
KEY = "k" * 32


@pytest.fixture
async def rooms() -> MemoryWaitingRooms:
    return MemoryWaitingRooms()


@pytest.fixture
async def shop(rooms) -> Shop:
    shop = build_shop(rooms=rooms, admissions=AdmissionTokens([KEY], ttl_seconds=600))
    for name, sku, units in (("Sneaker", "SNKR-1", 3), ("Sock", "SOCK-1", 50)):
        await shop.bus.handle(CreateProduct(name=name, sku=sku, price_amount=1000, currency="EUR", status="active"))
        await stock(shop.bus, sku, units)
    return shop


async def _drop(shop: Shop, **terms: object) -> str:
    drop = await shop.bus.handle(d.ScheduleDrop(terms=DropTerms(**{
        "name": "Drop", "skus": ("SNKR-1",), "opens_at": OPENS, "time_zone": "Europe/Berlin",
        "admission_rate": 1.0, **terms})))  # type: ignore[arg-type]
    return str(drop["id"])


def guest(n: int) -> Owner:
    return Owner.guest(f"guest-{n}")


async def join(shop: Shop, drop_id: str, n: int) -> dict:
    return await shop.bus.handle(JoinQueue(drop_id=drop_id, holder=holder_of(guest(n))))


async def read(shop: Shop, drop_id: str, n: int) -> dict:
    return await shop.bus.handle(ReadQueue(drop_id=drop_id, holder=holder_of(guest(n))))


async def admitted_token(shop: Shop, drop_id: str, n: int) -> str:
    view = await read(shop, drop_id, n)
    assert view["status"] == "admitted", view
    return str(view["admission"])


async def test_before_opening_everyone_waits_unranked_and_asks_again_later(shop) -> None:
    drop_id = await _drop(shop)
    first = await join(shop, drop_id, 1)
    again = await join(shop, drop_id, 1)
    assert (first["status"], first["position"], first["admission"]) == ("waiting", None, None)
    assert again["ticket_id"] == first["ticket_id"]  # one ticket per shopper
    assert first["retry_after"] == 60  # an hour to go: ask again in a minute at most
    shop.clock.set(OPENS - timedelta(seconds=4))
    assert (await read(shop, drop_id, 1))["retry_after"] in (2, 3)  # half the time left, give or take a quarter


def test_shoppers_told_the_same_wait_come_back_spread_out_each_at_a_fixed_moment() -> None:
    told = [retry_after(ticket_for("drop-1", f"guest:{n}"), 20) for n in range(200)]
    assert set(told) <= set(range(8, 14))  # 10 s, by up to a quarter either way
    assert len(set(told)) >= 5
    assert told == [retry_after(ticket_for("drop-1", f"guest:{n}"), 20) for n in range(200)]
    assert (retry_after("t1", 0), retry_after("t1", 3600)) == (1, 60)


async def test_at_opening_the_early_crowd_is_ranked_and_admitted_one_a_second_later_ones_queue_behind(shop) -> None:
    drop_id = await _drop(shop)
    for n in range(1, 5):
        await join(shop, drop_id, n)
    shop.clock.set(OPENS)
    late = await join(shop, drop_id, 5)
    assert late["position"] == 5  # behind the four who came early, whatever their draw
    early = [await read(shop, drop_id, n) for n in range(1, 5)]
    assert sorted(v["position"] for v in early) == [1, 2, 3, 4]
    shop.clock.set(OPENS + timedelta(seconds=2))
    views = [await read(shop, drop_id, n) for n in range(1, 6)]
    assert sorted(v["status"] for v in views) == ["admitted", "admitted", "waiting", "waiting", "waiting"]
    assert (views[4]["position"], views[4]["wait_seconds"]) == (3, 3)


async def test_a_gated_sku_needs_the_shoppers_own_unexpired_admission(shop) -> None:
    drop_id = await _drop(shop)
    await join(shop, drop_id, 1)
    await join(shop, drop_id, 2)
    with pytest.raises(DropNotOpen, match=r"go.*on sale at 2026-06-01T15:00:00\+02:00"):
        await shop.bus.handle(cart.AddCartLine(owner=guest(1), sku="SNKR-1", quantity=1))
    shop.clock.set(OPENS + timedelta(seconds=5))
    token = await admitted_token(shop, drop_id, 1)
    with pytest.raises(AdmissionRequired):
        await shop.bus.handle(cart.AddCartLine(owner=guest(1), sku="SNKR-1", quantity=1))
    for owner, forged, reason in (
        (guest(2), token, "not issued to this shopper"),  # copied to another session
        (guest(1), token[:-2] + "xx", "not issued to this shopper"),  # tampered
        (guest(1), "a1.nope", "not one of ours"),
        (guest(1), token.replace(drop_id, "other"), "not issued to this shopper"),
    ):
        with pytest.raises(AdmissionRefused, match=reason):
            await shop.bus.handle(cart.AddCartLine(owner=owner, sku="SNKR-1", quantity=1, admission=forged))
    await shop.bus.handle(cart.AddCartLine(owner=guest(1), sku="SOCK-1", quantity=1))  # not gated
    await shop.bus.handle(cart.AddCartLine(owner=guest(1), sku="SNKR-1", quantity=1, admission=token))
    shop.clock.advance(timedelta(minutes=11))
    with pytest.raises(AdmissionRefused, match="expired"):
        await shop.bus.handle(cart.AddCartLine(owner=guest(1), sku="SNKR-1", quantity=1, admission=token))
    fresh = await admitted_token(shop, drop_id, 1)  # the room answers a new one while the ticket is unused
    await shop.bus.handle(cart.AddCartLine(owner=guest(1), sku="SNKR-1", quantity=1, admission=fresh))


async def _ready(shop: Shop, owner: Owner) -> str:
    checkout_id = (await shop.bus.handle(co.StartCheckout(owner=owner))).id
    await shop.bus.handle(co.SetContact(owner=owner, checkout_id=checkout_id, email="ada@example.com"))
    await shop.bus.handle(co.SetAddress(owner=owner, checkout_id=checkout_id, shipping=BERLIN))
    await shop.bus.handle(co.ChooseShipping(owner=owner, checkout_id=checkout_id, method_id="eu-standard"))
    return checkout_id


async def test_the_payment_asks_for_the_admission_again_and_it_serves_one_checkout(shop) -> None:
    drop_id = await _drop(shop)
    await join(shop, drop_id, 1)
    shop.clock.set(OPENS + timedelta(seconds=1))
    token = await admitted_token(shop, drop_id, 1)
    await shop.bus.handle(cart.AddCartLine(owner=guest(1), sku="SNKR-1", quantity=1, admission=token))
    first = await _ready(shop, guest(1))
    with pytest.raises(AdmissionRequired):
        await shop.bus.handle(co.StartPayment(owner=guest(1), checkout_id=first, provider="stripe"))
    await shop.bus.handle(co.StartPayment(owner=guest(1), checkout_id=first, provider="stripe", admission=token))
    await shop.bus.handle(co.StartPayment(owner=guest(1), checkout_id=first, provider="stripe", admission=token))
    second = await _ready(shop, guest(1))  # the same cart, another checkout: the admission is spent
    with pytest.raises(AdmissionRefused, match="used by another checkout"):
        await shop.bus.handle(co.StartPayment(owner=guest(1), checkout_id=second, provider="stripe",
                                              admission=token))
    assert await available(shop.uow, "SNKR-1") == 2  # the first checkout's one unit, held once


async def test_when_the_drop_sells_out_everyone_waiting_is_told_and_the_drop_records_it(shop) -> None:
    drop_id = await _drop(shop, admission_rate=0.5)
    for n in range(1, 4):
        await join(shop, drop_id, n)
    shop.clock.set(OPENS + timedelta(seconds=2))
    views = {n: await read(shop, drop_id, n) for n in range(1, 4)}
    [winner] = [n for n, v in views.items() if v["status"] == "admitted"]
    await shop.bus.handle(cart.AddCartLine(owner=guest(winner), sku="SNKR-1", quantity=3,
                                           admission=views[winner]["admission"]))
    checkout_id = await _ready(shop, guest(winner))
    await shop.bus.handle(co.StartPayment(owner=guest(winner), checkout_id=checkout_id, provider="manual",
                                          admission=views[winner]["admission"]))
    shop.clock.advance(timedelta(seconds=1))
    held = {n: await read(shop, drop_id, n) for n in range(1, 4) if n != winner}
    assert [v["status"] for v in held.values()] == ["waiting", "waiting"]  # only held: it may sell again
    await shop.bus.handle(co.PlaceOrder(owner=guest(winner), checkout_id=checkout_id))  # paying later: sold
    shop.clock.advance(timedelta(seconds=1))
    after = {n: await read(shop, drop_id, n) for n in range(1, 4)}
    assert after[winner]["status"] == "admitted"  # who was admitted stays admitted
    assert sorted(v["status"] for n, v in after.items() if n != winner) == ["sold_out", "sold_out"]
    assert (await shop.bus.handle(d.GetDrop(drop_id=drop_id)))["phase"] == "sold_out"
    with pytest.raises(DropNotOpen, match="sold out"):
        await join(shop, drop_id, 9)
    with pytest.raises(OutOfStock):
        await shop.bus.handle(cart.AddCartLine(owner=guest(2), sku="SNKR-1", quantity=1))


async def test_a_lost_room_is_rebuilt_from_the_recorded_tickets_everyone_keeping_their_place(shop, rooms) -> None:
    drop_id = await _drop(shop, admission_rate=0.5)
    for n in range(1, 6):
        await join(shop, drop_id, n)
    shop.clock.set(OPENS + timedelta(seconds=2))
    before = {n: await read(shop, drop_id, n) for n in range(1, 6)}
    await rooms.forget(drop_id)  # Redis restarted empty
    after = {n: await read(shop, drop_id, n) for n in range(1, 6)}
    assert {n: (v["status"], v["position"]) for n, v in after.items()} == {
        n: (v["status"], v["position"]) for n, v in before.items()}
    assert sum(v["status"] == "admitted" for v in after.values()) == 1


async def test_no_queue_for_a_drop_without_a_waiting_room_or_for_no_drop(shop) -> None:
    drop_id = await _drop(shop, waiting_room=False)
    with pytest.raises(NoWaitingRoom):
        await join(shop, drop_id, 1)
    with pytest.raises(DropNotFound):
        await join(shop, "no-such-drop", 1)
    with pytest.raises(DropNotFound, match="join its queue first"):
        await read(shop, await _drop(shop, skus=("SOCK-1",)), 1)
    shop.clock.set(OPENS)
    await shop.bus.handle(cart.AddCartLine(owner=guest(1), sku="SNKR-1", quantity=1))  # no room: no token


async def test_an_edit_before_opening_rebuilds_the_room_with_the_new_terms_keeping_every_ticket(shop) -> None:
    drop_id = await _drop(shop)
    for n in range(1, 4):
        await join(shop, drop_id, n)
    later = OPENS + timedelta(minutes=30)
    await shop.bus.handle(d.EditDrop(drop_id=drop_id, terms=DropTerms(
        name="Drop", skus=("SNKR-1",), opens_at=later, time_zone="Europe/Berlin", admission_rate=3.0)))
    shop.clock.set(OPENS + timedelta(seconds=5))
    assert {(await read(shop, drop_id, n))["status"] for n in range(1, 4)} == {"waiting"}  # not open yet
    shop.clock.set(later + timedelta(seconds=1))
    assert [(await read(shop, drop_id, n))["status"] for n in range(1, 4)] == ["admitted"] * 3  # 3 a second


async def test_the_room_admits_no_more_shoppers_than_the_units_left_can_serve(shop) -> None:
    drop_id = await _drop(shop, admission_rate=10.0)  # 3 sneakers; at most 1.5 shoppers a unit left
    for n in range(1, 11):
        await join(shop, drop_id, n)
    shop.clock.set(OPENS + timedelta(seconds=2))  # the rate owes 20 admissions: the stock allows 5
    views = {n: await read(shop, drop_id, n) for n in range(1, 11)}
    admitted = [n for n, v in views.items() if v["status"] == "admitted"]
    assert len(admitted) == 5
    held = [v for n, v in views.items() if n not in admitted]
    assert {(v["status"], v["wait_seconds"]) for v in held} == {("waiting", None)}  # held back: no wait to tell
    assert sorted(v["position"] for v in held) == [1, 2, 3, 4, 5]
    assert {15 <= v["retry_after"] <= 25 for v in held} == {True}  # about 20 s: no asking every second
    buyer = admitted[0]
    token = views[buyer]["admission"]
    await shop.bus.handle(cart.AddCartLine(owner=guest(buyer), sku="SNKR-1", quantity=1, admission=token))
    checkout_id = await _ready(shop, guest(buyer))
    await shop.bus.handle(co.StartPayment(owner=guest(buyer), checkout_id=checkout_id, provider="manual",
                                          admission=token))  # one admission used, one unit held
    shop.clock.advance(timedelta(seconds=1))
    assert sum([(await read(shop, drop_id, n))["status"] == "admitted" for n in range(1, 11)]) == 5  # 1 + ⌈2 × 1.5⌉
    shop.clock.advance(timedelta(minutes=11))  # the four idle admissions have lapsed: room for 1 + 4 + 3
    after = {n: await read(shop, drop_id, n) for n in range(1, 11)}
    assert sum(v["status"] == "admitted" for v in after.values()) == 8
    assert {after[n]["status"] for n in admitted} == {"admitted"}  # who was admitted stays admitted


async def test_a_hold_on_a_drops_units_lapses_sooner_than_a_shop_hold(shop) -> None:
    drop_id = await _drop(shop)
    await join(shop, drop_id, 1)
    shop.clock.set(OPENS + timedelta(seconds=1))
    token = await admitted_token(shop, drop_id, 1)
    for owner, sku, admission in ((guest(1), "SNKR-1", token), (guest(2), "SOCK-1", None)):
        await shop.bus.handle(cart.AddCartLine(owner=owner, sku=sku, quantity=1, admission=admission))
        checkout_id = await _ready(shop, owner)
        await shop.bus.handle(co.StartPayment(owner=owner, checkout_id=checkout_id, provider="stripe",
                                              admission=admission))
    async with shop.uow() as tx:
        holds = {r.lines[0].sku: r for r in await tx.reservations.in_flight(10)}
    now = shop.clock.now()
    assert holds["SNKR-1"].expires_at == now + timedelta(seconds=120)  # a drop's: two minutes
    assert holds["SOCK-1"].expires_at == now + timedelta(seconds=600)  # the shop's: ten
