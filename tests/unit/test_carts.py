"""Carts through the message bus with in-memory fakes: lines, limits, totals recomputed, merge."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.memory.carts import MemoryCartCache, MemoryDurableCarts
from adapters.memory.clock import FakeClock, SequentialIds
from adapters.memory.store import MemoryDatabase, MemoryUnitOfWork
from application.carts import commands as c
from application.carts.handlers import CartNotFound, NotPurchasable, UnknownCoupon, UnknownSku
from application.carts.store import LayeredCartStore
from application.catalog.commands import CreateProduct, PriceSpec, SetPrices, UpdateProduct
from domain.carts.cart import MAX_LINE_QUANTITY, Cart, LineNotFound, Owner, QuantityOutOfRange
from entrypoints.container import build_bus

GUEST = Owner.guest("guest-token-1")
OTHER = Owner.guest("guest-token-2")
ALICE = Owner.customer("alice")


@pytest.fixture
def world():
    db = MemoryDatabase()
    ids = SequentialIds()
    clock = FakeClock()
    durable, cache = MemoryDurableCarts(), MemoryCartCache()
    store = LayeredCartStore(durable, cache, clock)
    uow = lambda: MemoryUnitOfWork(db, ids)  # noqa: E731
    bus = build_bus(uow=uow, clock=clock, ids=ids, cart_store=store)
    return bus, db, store, durable, cache, clock


async def product(bus, db, name: str, sku: str, cents: int) -> tuple[str, str]:
    product_id = await bus.handle(CreateProduct(name=name, sku=sku, price_amount=cents, currency="EUR",
                                                status="active"))
    price_list_id = next(pl.id for pl in db.price_lists.values() if sku in pl.prices)
    return product_id, price_list_id


async def view(bus, owner=GUEST):
    return await bus.handle(c.ViewCart(owner=owner))


async def test_a_guest_adds_lines_and_the_same_sku_adds_up(world) -> None:
    bus, db, *_ = world
    await product(bus, db, "Trail Runner", "TR-1", 12900)
    await product(bus, db, "Socks", "SO-1", 900)
    await bus.handle(c.AddCartLine(owner=GUEST, sku="TR-1", quantity=1))
    await bus.handle(c.AddCartLine(owner=GUEST, sku="SO-1", quantity=2))
    await bus.handle(c.AddCartLine(owner=GUEST, sku="TR-1", quantity=1))
    cart = await view(bus)
    assert [(line.sku, line.quantity, line.unit_price, line.total) for line in cart.lines] == [
        ("TR-1", 2, 12900, 25800), ("SO-1", 2, 900, 1800),
    ]
    assert (cart.subtotal, cart.discount, cart.total, cart.item_count) == (27600, 0, 27600, 4)
    # German VAT is inside the price: 27600 × 19/119 = 4406.72… → 4407 (one rounding per line: 4119 + 287).
    assert cart.tax.included
    assert cart.tax.amount == 4119 + 287


async def test_totals_follow_the_price_list_without_a_write_to_the_cart(world) -> None:
    bus, db, _, durable, *_ = world
    _, price_list = await product(bus, db, "Trail Runner", "TR-1", 12900)
    await bus.handle(c.AddCartLine(owner=GUEST, sku="TR-1", quantity=2))
    stored_version = durable.rows[GUEST.id][0].version
    await bus.handle(SetPrices(price_list_id=price_list, prices=[PriceSpec(sku="TR-1", amount=9900)]))
    cart = await view(bus)
    assert cart.total == 19800
    [line] = cart.lines
    assert line.price_changed
    assert line.previous_unit_price == 12900
    assert cart.has_issues
    assert durable.rows[GUEST.id][0].version == stored_version  # nothing was written


@pytest.mark.parametrize(
    ("sku", "quantity", "error"),
    [("NOPE-1", 1, UnknownSku), ("TR-1", 0, QuantityOutOfRange), ("TR-1", MAX_LINE_QUANTITY + 1, QuantityOutOfRange)],
)
async def test_bad_lines_are_refused_and_change_nothing(world, sku, quantity, error) -> None:
    bus, db, _, durable, *_ = world
    await product(bus, db, "Trail Runner", "TR-1", 12900)
    await bus.handle(c.AddCartLine(owner=GUEST, sku="TR-1", quantity=1))
    before = durable.rows[GUEST.id][0].version
    with pytest.raises(error):
        await bus.handle(c.AddCartLine(owner=GUEST, sku=sku, quantity=quantity))
    assert durable.rows[GUEST.id][0].version == before
    assert [(line.sku, line.quantity) for line in (await view(bus)).lines] == [("TR-1", 1)]


async def test_growing_a_line_past_the_limit_is_refused(world) -> None:
    bus, db, *_ = world
    await product(bus, db, "Socks", "SO-1", 900)
    await bus.handle(c.AddCartLine(owner=GUEST, sku="SO-1", quantity=MAX_LINE_QUANTITY))
    with pytest.raises(QuantityOutOfRange):
        await bus.handle(c.AddCartLine(owner=GUEST, sku="SO-1", quantity=1))
    assert (await view(bus)).lines[0].quantity == MAX_LINE_QUANTITY


async def test_an_archived_product_cannot_be_added_and_shows_unavailable_once_in_the_cart(world) -> None:
    bus, db, *_ = world
    product_id, _ = await product(bus, db, "Trail Runner", "TR-1", 12900)
    await product(bus, db, "Socks", "SO-1", 900)
    await bus.handle(c.AddCartLine(owner=GUEST, sku="TR-1", quantity=1))
    await bus.handle(c.AddCartLine(owner=GUEST, sku="SO-1", quantity=1))
    await bus.handle(UpdateProduct(product_id=product_id, status="archived"))
    with pytest.raises(NotPurchasable):
        await bus.handle(c.AddCartLine(owner=GUEST, sku="TR-1", quantity=1))
    cart = await view(bus)
    runner = next(line for line in cart.lines if line.sku == "TR-1")
    assert not runner.available
    assert "archived" in (runner.reason or "")
    assert cart.total == 900  # an unavailable line is shown but not charged


async def test_change_and_remove_lines_only_in_ones_own_cart(world) -> None:
    bus, db, *_ = world
    await product(bus, db, "Trail Runner", "TR-1", 12900)
    cart: Cart = await bus.handle(c.AddCartLine(owner=GUEST, sku="TR-1", quantity=1))
    line_id = cart.lines[0].id
    with pytest.raises(CartNotFound):
        await bus.handle(c.ChangeCartLine(owner=OTHER, line_id=line_id, quantity=3))
    await bus.handle(c.AddCartLine(owner=OTHER, sku="TR-1", quantity=1))
    with pytest.raises(LineNotFound):
        await bus.handle(c.RemoveCartLine(owner=OTHER, line_id=line_id))
    await bus.handle(c.ChangeCartLine(owner=GUEST, line_id=line_id, quantity=3))
    assert (await view(bus)).lines[0].quantity == 3
    await bus.handle(c.RemoveCartLine(owner=GUEST, line_id=line_id))
    assert (await view(bus)).lines == []
    assert [line.quantity for line in (await view(bus, OTHER)).lines] == [1]


async def test_unknown_coupons_are_refused_while_no_promotion_exists(world) -> None:
    bus, db, *_ = world
    await product(bus, db, "Trail Runner", "TR-1", 12900)
    await bus.handle(c.AddCartLine(owner=GUEST, sku="TR-1", quantity=1))
    with pytest.raises(UnknownCoupon):
        await bus.handle(c.ApplyCoupon(owner=GUEST, code="SUMMER10"))
    assert (await view(bus)).coupons == []


async def test_sign_in_merge_adds_quantities_up_to_the_limit_and_retires_the_guest_cart(world) -> None:
    bus, db, store, *_ = world
    await product(bus, db, "Trail Runner", "TR-1", 12900)
    await product(bus, db, "Socks", "SO-1", 900)
    await product(bus, db, "Cap", "CA-1", 1900)
    await bus.handle(c.AddCartLine(owner=ALICE, sku="TR-1", quantity=1))
    await bus.handle(c.AddCartLine(owner=ALICE, sku="SO-1", quantity=MAX_LINE_QUANTITY - 1))
    await bus.handle(c.AddCartLine(owner=GUEST, sku="TR-1", quantity=2))
    await bus.handle(c.AddCartLine(owner=GUEST, sku="SO-1", quantity=5))
    await bus.handle(c.AddCartLine(owner=GUEST, sku="CA-1", quantity=1))

    report = await bus.handle(c.MergeGuestCart(guest=GUEST, customer=ALICE))
    assert (report.added, report.combined, report.capped) == (("CA-1",), ("TR-1", "SO-1"), ("SO-1",))
    merged = await view(bus, ALICE)
    assert {line.sku: line.quantity for line in merged.lines} == {"TR-1": 3, "SO-1": MAX_LINE_QUANTITY, "CA-1": 1}
    assert (await view(bus, GUEST)).lines == []  # the guest cart is retired: its cookie reaches nothing
    assert (await store.get(GUEST.id)).retired
    # Replaying the merge (a retried sign-in) changes nothing.
    again = await bus.handle(c.MergeGuestCart(guest=GUEST, customer=ALICE))
    assert again.added == ()
    assert {line.sku: line.quantity for line in (await view(bus, ALICE)).lines} == {
        "TR-1": 3, "SO-1": MAX_LINE_QUANTITY, "CA-1": 1,
    }


async def test_a_customer_cart_follows_the_customer_and_survives_a_cache_flush(world) -> None:
    bus, db, store, _, cache, clock = world
    await product(bus, db, "Trail Runner", "TR-1", 12900)
    await bus.handle(c.AddCartLine(owner=ALICE, sku="TR-1", quantity=2))
    cache.flush()
    clock.advance(timedelta(days=3))
    assert [(line.sku, line.quantity) for line in (await view(bus, ALICE)).lines] == [("TR-1", 2)]
    assert (await store.for_customer("alice")) is not None


async def test_a_guest_cart_expires_after_its_ttl_in_the_durable_copy(world) -> None:
    bus, db, _, durable, cache, clock = world
    await product(bus, db, "Trail Runner", "TR-1", 12900)
    await bus.handle(c.AddCartLine(owner=GUEST, sku="TR-1", quantity=1))
    cache.flush()
    clock.advance(timedelta(days=8))
    assert (await view(bus)).lines == []
    assert await durable.purge_expired(now=clock.now()) == 1
