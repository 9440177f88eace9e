"""A drop's purchase limit, taken with the stock hold at payment: per account or guest session, per
e-mail and per shipping address, each SKU on its own. Through the bus, with the in-memory fakes."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from adapters.memory.clock import SequentialIds
from application.carts import commands as cart
from application.catalog.commands import CreateProduct
from application.checkout import commands as co
from application.drops import handlers as d
from application.inventory.batching import ReservationBatcher
from application.inventory.commands import Reconcile, ReleaseReservation
from application.payments.errors import OnlinePaymentRequired
from domain.carts.cart import Owner
from domain.drops.drop import DropTerms
from domain.inventory.errors import PurchaseLimitReached
from domain.inventory.limits import Cap, over, refusal_of
from domain.shared.address import Address
from tests.support.unit import BERLIN, Shop, available, build_shop, ready_to_pay, stock

OPENS = datetime(2026, 6, 1, 13, tzinfo=UTC)  # an hour after the shop's clock starts
ELSEWHERE = Address(name="Bo", line1="Rue de Rivoli 2", city="Paris", postal_code="75001", country="FR")


@pytest.fixture
async def shop() -> Shop:
    shop = build_shop()
    for name, sku in (("Sneaker", "SNKR-1"), ("Cap", "CAP-1"), ("Sock", "SOCK-1")):
        await shop.bus.handle(CreateProduct(name=name, sku=sku, price_amount=1000, currency="EUR", status="active"))
        await stock(shop.bus, sku, 50)
    await shop.bus.handle(d.ScheduleDrop(terms=DropTerms(
        name="Drop", skus=("SNKR-1", "CAP-1"), opens_at=OPENS, time_zone="Europe/Berlin", per_customer_limit=2,
        waiting_room=False)))
    shop.clock.set(OPENS)
    return shop


async def buys(shop: Shop, owner: Owner, lines: dict[str, int], *, email: str = "ada@example.com",
               address: Address = BERLIN, provider: str = "stripe") -> str:
    for sku, quantity in lines.items():
        await shop.bus.handle(cart.AddCartLine(owner=owner, sku=sku, quantity=quantity))
    checkout_id, _ = await ready_to_pay(shop.bus, owner, email=email, address=address, provider=provider)
    return checkout_id


async def places(shop: Shop, owner: Owner, checkout_id: str) -> None:
    await shop.bus.handle(co.PlaceOrder(owner=owner, checkout_id=checkout_id))


def guest(n: int) -> Owner:
    return Owner.guest(f"guest-{n}")


def test_a_cap_breaks_when_what_is_held_and_asked_exceeds_it_each_sku_and_buyer_alone() -> None:
    caps = [Cap(sku="A", buyer="x", limit=2), Cap(sku="A", buyer="y", limit=2), Cap(sku="B", buyer="x", limit=1)]
    assert over(caps, {"A": 2, "B": 1}, {}) == []
    assert over(caps, {"A": 1}, {("A", "x"): 1, ("A", "y"): 2, ("B", "x"): 5}) == [caps[1]]  # B not asked
    assert over(caps, {"A": 3}, {}) == caps[:2]
    assert refusal_of([caps[2], caps[0]]) == (["A", "B"], 1)


async def test_one_guest_buys_up_to_the_limit_then_is_refused_with_nothing_held(shop) -> None:
    first = await buys(shop, guest(1), {"SNKR-1": 2, "SOCK-1": 5})
    await places(shop, guest(1), first)
    await shop.bus.handle(cart.AddCartLine(owner=guest(1), sku="SNKR-1", quantity=1))
    with pytest.raises(PurchaseLimitReached, match="at most 2 of SNKR-1") as refused:
        await ready_to_pay(shop.bus, guest(1), email="other@example.com", address=ELSEWHERE)
    assert (refused.value.skus, refused.value.limit) == (["SNKR-1"], 2)
    assert await available(shop.uow, "SNKR-1") == 48  # only the first order's two


async def test_each_sku_of_the_drop_has_its_own_limit_and_other_skus_none(shop) -> None:
    await places(shop, guest(1), await buys(shop, guest(1), {"SNKR-1": 2, "CAP-1": 2, "SOCK-1": 20}))
    assert (await available(shop.uow, "CAP-1"), await available(shop.uow, "SOCK-1")) == (48, 30)


async def test_more_than_the_limit_in_one_cart_is_refused(shop) -> None:
    with pytest.raises(PurchaseLimitReached):
        await buys(shop, guest(1), {"CAP-1": 3})
    assert await available(shop.uow, "CAP-1") == 50


@pytest.mark.parametrize(("email", "address"), [("ada@example.com", ELSEWHERE), ("bo@example.com", BERLIN)])
async def test_another_session_with_the_same_email_or_address_shares_the_limit(shop, email, address) -> None:
    await places(shop, guest(1), await buys(shop, guest(1), {"SNKR-1": 1}))
    await places(shop, guest(2), await buys(shop, guest(2), {"SNKR-1": 1}, email=email.upper(), address=address))
    with pytest.raises(PurchaseLimitReached):
        await buys(shop, guest(3), {"SNKR-1": 1}, email=email, address=replace(address, line1=address.line1.lower()))
    await places(shop, guest(4), await buys(shop, guest(4), {"SNKR-1": 2}, email="cy@example.com",
                                            address=replace(ELSEWHERE, postal_code="75002")))


async def test_a_hold_given_back_frees_the_limit(shop) -> None:
    checkout_id = await buys(shop, guest(1), {"SNKR-1": 2})
    async with shop.uow() as tx:
        reservation_id = (await tx.checkouts.get(checkout_id)).reservation_id
    assert await shop.bus.handle(ReleaseReservation(reservation_id=reservation_id))
    await places(shop, guest(2), await buys(shop, guest(2), {"SNKR-1": 2}))


async def test_paying_again_after_a_change_replaces_the_hold_within_the_limit(shop) -> None:
    checkout_id = await buys(shop, guest(1), {"SNKR-1": 1})
    await shop.bus.handle(cart.AddCartLine(owner=guest(1), sku="SNKR-1", quantity=1))
    await shop.bus.handle(co.StartPayment(owner=guest(1), checkout_id=checkout_id, provider="stripe"))
    await places(shop, guest(1), checkout_id)  # 2 held, the first hold's 1 no longer counted
    assert await available(shop.uow, "SNKR-1") == 48


async def test_a_lapsed_hold_is_taken_again_at_placing_only_within_the_limit(shop) -> None:
    lapsed = await buys(shop, guest(1), {"SNKR-1": 2}, provider="manual")  # placing sells the held units
    shop.clock.advance(timedelta(minutes=11))  # past the 10-minute hold
    await shop.bus.handle(Reconcile())  # the sweep expires it: it stops counting
    await places(shop, guest(2), await buys(shop, guest(2), {"SNKR-1": 1}))  # same e-mail and address
    with pytest.raises(PurchaseLimitReached):
        await places(shop, guest(1), lapsed)
    assert await available(shop.uow, "SNKR-1") == 49


async def test_a_lapsed_hold_with_room_left_is_taken_again(shop) -> None:
    lapsed = await buys(shop, guest(1), {"SNKR-1": 1}, provider="manual")
    shop.clock.advance(timedelta(minutes=11))
    await shop.bus.handle(Reconcile())
    await places(shop, guest(2), await buys(shop, guest(2), {"SNKR-1": 1}))
    await places(shop, guest(1), lapsed)
    assert await available(shop.uow, "SNKR-1") == 48


async def test_a_drop_for_online_payment_only_refuses_pay_later(shop) -> None:
    drop = (await shop.bus.handle(d.ListDrops()))[0]
    shop.clock.set(OPENS - timedelta(minutes=30))
    await shop.bus.handle(d.EditDrop(drop_id=drop["id"], terms=DropTerms(
        name="Drop", skus=("SNKR-1", "CAP-1"), opens_at=OPENS, time_zone="Europe/Berlin", per_customer_limit=2,
        online_payment_only=True, waiting_room=False)))
    shop.clock.set(OPENS)
    with pytest.raises(OnlinePaymentRequired) as refused:
        await buys(shop, guest(1), {"CAP-1": 1, "SOCK-1": 1}, provider="manual")
    assert refused.value.skus == ["CAP-1"]
    await places(shop, guest(1), await buys(shop, guest(1), {}, provider="stripe"))  # the same cart, paid online


async def test_a_cancelled_drop_limits_nothing(shop) -> None:
    drop = (await shop.bus.handle(d.ListDrops()))[0]
    await shop.bus.handle(d.CancelDrop(drop_id=drop["id"]))
    await places(shop, guest(1), await buys(shop, guest(1), {"SNKR-1": 5}))


async def test_one_buyers_holds_in_one_group_count_against_each_other_in_arrival_order(shop) -> None:
    """Four holds in one transaction: the buyer's first two fit the cap of 2 (one unit already held
    counts too), the third does not, and another buyer's after it is placed all the same."""
    from domain.inventory.limits import Cap

    batcher = ReservationBatcher(shop.uow, shop.clock, SequentialIds())
    ada, bo = Cap(sku="SOCK-1", buyer="drop:ada", limit=3), Cap(sku="SOCK-1", buyer="drop:bo", limit=3)
    ttl = timedelta(minutes=5)
    await batcher.reserve("before", {"SOCK-1": 1}, ttl, caps=(ada,))
    outcomes = await asyncio.gather(
        batcher.reserve("a1", {"SOCK-1": 1}, ttl, caps=(ada,)),
        batcher.reserve("a2", {"SOCK-1": 1}, ttl, caps=(ada,)),
        batcher.reserve("a3", {"SOCK-1": 1}, ttl, caps=(ada,)),
        batcher.reserve("b1", {"SOCK-1": 1}, ttl, caps=(bo,)),
        return_exceptions=True,
    )
    assert batcher.transactions == 2  # the one before, then the four together
    assert [type(o).__name__ if isinstance(o, BaseException) else "held" for o in outcomes] == [
        "held", "held", "PurchaseLimitReached", "held"]
    assert await available(shop.uow, "SOCK-1") == 46
