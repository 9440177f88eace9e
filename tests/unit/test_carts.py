"""Carts through the message bus with in-memory fakes: lines, limits, totals recomputed, merge."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.memory.carts import MemoryCartCache, MemoryDurableCarts
from adapters.memory.clock import FakeClock, SequentialIds
from adapters.memory.store import MemoryDatabase, MemoryUnitOfWork
from application.carts import commands as c
from application.carts.errors import CartNotFound, NotPurchasable, UnknownCoupon, UnknownSku
from application.carts.store import LayeredCartStore
from application.catalog.commands import CreateProduct, PriceSpec, SetPrices, UpdateProduct, VariantSpec
from application.inventory import commands as inv
from application.inventory.commands import SetSkuPolicy
from domain.carts.cart import MAX_LINE_QUANTITY, Cart, LineNotFound, Owner, QuantityOutOfRange
from domain.inventory.errors import OutOfStock
from tests.support.bus import build_bus

GUEST = Owner.guest("guest-token-1")
OTHER = Owner.guest("guest-token-2")
ALICE = Owner.customer("alice")


@pytest.fixture
def world():
    db = MemoryDatabase()
    ids = SequentialIds()
    clock = FakeClock()
    durable, cache = MemoryDurableCarts(db), MemoryCartCache()
    store = LayeredCartStore(durable, cache, clock)
    uow = lambda: MemoryUnitOfWork(db, ids)  # noqa: E731
    bus = build_bus(uow=uow, clock=clock, ids=ids, cart_store=store)
    return bus, uow, store, durable, cache, clock


async def product(bus, uow, name: str, sku: str, cents: int, *, units: int | None = 500) -> tuple[str, str]:
    """An active product with ``units`` on the shelf (None: no stock ever received)."""
    product_id = await bus.handle(CreateProduct(name=name, sku=sku, price_amount=cents, currency="EUR",
                                                status="active"))
    if units is not None:
        await receive(bus, sku, units)
    async with uow() as tx:
        price_list_id = next(pl.id for pl in await tx.price_lists.for_skus([sku]) if sku in pl.prices)
    return product_id, price_list_id


async def receive(bus, sku: str, units: int) -> None:
    await bus.handle(inv.AddLocation(id="main", name="Main"))
    await bus.handle(inv.ReceiveStock(sku=sku, location_id="main", quantity=units, actor="test"))


async def view(bus, owner=GUEST):
    return await bus.handle(c.ViewCart(owner=owner))


async def test_a_guest_adds_lines_and_the_same_sku_adds_up(world) -> None:
    bus, uow, *_ = world
    await product(bus, uow, "Trail Runner", "TR-1", 12900)
    await product(bus, uow, "Socks", "SO-1", 900)
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
    bus, uow, _, durable, *_ = world
    _, price_list = await product(bus, uow, "Trail Runner", "TR-1", 12900)
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
    bus, uow, _, durable, *_ = world
    await product(bus, uow, "Trail Runner", "TR-1", 12900)
    await bus.handle(c.AddCartLine(owner=GUEST, sku="TR-1", quantity=1))
    before = durable.rows[GUEST.id][0].version
    with pytest.raises(error):
        await bus.handle(c.AddCartLine(owner=GUEST, sku=sku, quantity=quantity))
    assert durable.rows[GUEST.id][0].version == before
    assert [(line.sku, line.quantity) for line in (await view(bus)).lines] == [("TR-1", 1)]


async def test_growing_a_line_past_the_limit_is_refused(world) -> None:
    bus, uow, *_ = world
    await product(bus, uow, "Socks", "SO-1", 900)
    await bus.handle(c.AddCartLine(owner=GUEST, sku="SO-1", quantity=MAX_LINE_QUANTITY))
    with pytest.raises(QuantityOutOfRange):
        await bus.handle(c.AddCartLine(owner=GUEST, sku="SO-1", quantity=1))
    assert (await view(bus)).lines[0].quantity == MAX_LINE_QUANTITY


async def test_an_archived_product_cannot_be_added_and_shows_unavailable_once_in_the_cart(world) -> None:
    bus, uow, *_ = world
    product_id, _ = await product(bus, uow, "Trail Runner", "TR-1", 12900)
    await product(bus, uow, "Socks", "SO-1", 900)
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
    bus, uow, *_ = world
    await product(bus, uow, "Trail Runner", "TR-1", 12900)
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
    bus, uow, *_ = world
    await product(bus, uow, "Trail Runner", "TR-1", 12900)
    await bus.handle(c.AddCartLine(owner=GUEST, sku="TR-1", quantity=1))
    with pytest.raises(UnknownCoupon):
        await bus.handle(c.ApplyCoupon(owner=GUEST, code="SUMMER10"))
    assert (await view(bus)).coupons == []


async def test_sign_in_merge_adds_quantities_up_to_the_limit_and_retires_the_guest_cart(world) -> None:
    bus, uow, store, *_ = world
    await product(bus, uow, "Trail Runner", "TR-1", 12900)
    await product(bus, uow, "Socks", "SO-1", 900)
    await product(bus, uow, "Cap", "CA-1", 1900)
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
    bus, uow, store, _, cache, clock = world
    await product(bus, uow, "Trail Runner", "TR-1", 12900)
    await bus.handle(c.AddCartLine(owner=ALICE, sku="TR-1", quantity=2))
    cache.flush()
    clock.advance(timedelta(days=3))
    assert [(line.sku, line.quantity) for line in (await view(bus, ALICE)).lines] == [("TR-1", 2)]
    assert (await store.for_customer("alice")) is not None


async def test_a_guest_cart_expires_after_its_ttl_in_the_durable_copy(world) -> None:
    bus, uow, _, durable, cache, clock = world
    await product(bus, uow, "Trail Runner", "TR-1", 12900)
    await bus.handle(c.AddCartLine(owner=GUEST, sku="TR-1", quantity=1))
    cache.flush()
    clock.advance(timedelta(days=8))
    assert (await view(bus)).lines == []
    assert await durable.purge_expired(now=clock.now()) == 1


# Stock: the cart says what the payment's stock hold will decide, line by line.


def line_of(cart, sku: str):
    return next(line for line in cart.lines if line.sku == sku)


async def bundle(bus, uow, sku: str, cents: int, components: list[tuple[str, int]]) -> None:
    """An active bundle priced in the EUR list: it has no stock of its own; its components do."""
    await bus.handle(CreateProduct(name=f"Kit {sku}", status="active",
                                   variants=[VariantSpec(sku=sku, components=components)]))
    async with uow() as tx:
        price_list = next(pl.id for pl in await tx.price_lists.for_skus([sku]) if pl.currency == "EUR")
    await bus.handle(SetPrices(price_list_id=price_list, prices=[PriceSpec(sku=sku, amount=cents)]))


async def test_a_sku_that_never_had_stock_is_sold_out_and_cannot_be_added(world) -> None:
    bus, uow, _, durable, *_ = world
    await product(bus, uow, "Socks", "SO-1", 900)
    await product(bus, uow, "Kite", "KI-1", 3000, units=None)  # tracked (the default), nothing ever received
    await bus.handle(c.AddCartLine(owner=GUEST, sku="SO-1", quantity=1))
    before = durable.rows[GUEST.id][0].version
    with pytest.raises(OutOfStock) as refused:
        await bus.handle(c.AddCartLine(owner=GUEST, sku="KI-1", quantity=1))
    assert refused.value.skus == ["KI-1"]
    assert durable.rows[GUEST.id][0].version == before
    assert [(line.sku, line.stock) for line in (await view(bus)).lines] == [("SO-1", "in_stock")]


async def test_a_line_without_stock_behind_it_is_sold_out_not_available(world) -> None:
    bus, uow, *_ = world
    await product(bus, uow, "Socks", "SO-1", 900)
    await product(bus, uow, "Kite", "KI-1", 3000, units=None)
    await product(bus, uow, "Cap", "CA-1", 1900, units=2)
    await bus.handle(SetSkuPolicy(sku="KI-1", track_inventory=False))  # sold uncounted when it was added…
    for sku in ("SO-1", "KI-1", "CA-1"):
        await bus.handle(c.AddCartLine(owner=GUEST, sku=sku, quantity=1))
    await bus.handle(SetSkuPolicy(sku="KI-1"))  # …then counted again: no stock row at all
    await bus.handle(inv.AdjustStock(sku="CA-1", location_id="main", delta=-2, reason="damaged", actor="ops"))

    cart = await view(bus)
    for sku in ("KI-1", "CA-1"):  # no stock row, and a row with nothing on hand: the same answer
        line = line_of(cart, sku)
        assert (line.available, line.reason, line.stock, line.total) == (False, "sold out", "sold_out", 0)
    assert (line_of(cart, "SO-1").available, line_of(cart, "SO-1").stock) == (True, "in_stock")
    assert cart.has_issues
    assert cart.total == 900  # a sold-out line is shown but not charged


async def test_every_line_tells_its_stock_status_and_backorder_and_untracked_stay_for_sale(world) -> None:
    bus, uow, *_ = world
    await product(bus, uow, "Socks", "SO-1", 900)
    await product(bus, uow, "Cap", "CA-1", 1900, units=3)  # at or under the low-stock threshold (5)
    await product(bus, uow, "E-book", "EB-1", 1200, units=None)
    await product(bus, uow, "Made to order", "MO-1", 9900, units=None)
    await bus.handle(SetSkuPolicy(sku="EB-1", track_inventory=False))
    await bus.handle(SetSkuPolicy(sku="MO-1", allow_backorder=True))
    for sku in ("SO-1", "CA-1", "EB-1", "MO-1"):
        await bus.handle(c.AddCartLine(owner=GUEST, sku=sku, quantity=1))
    cart = await view(bus)
    assert [(line.sku, line.stock, line.available, line.reason) for line in cart.lines] == [
        ("SO-1", "in_stock", True, None), ("CA-1", "low", True, None),
        ("EB-1", "untracked", True, None), ("MO-1", "backorder", True, None),
    ]
    assert not cart.has_issues
    assert cart.total == 900 + 1900 + 1200 + 9900


async def test_a_bundle_is_as_available_as_its_scarcest_component(world) -> None:
    bus, uow, *_ = world
    await product(bus, uow, "Shoe", "SH-1", 5000)
    await product(bus, uow, "Sock", "SK-1", 500, units=4)
    await product(bus, uow, "Lace", "LA-1", 100, units=None)
    await bundle(bus, uow, "KIT-1", 5200, [("SH-1", 1), ("SK-1", 2)])  # the kit SKU never gets stock
    await bundle(bus, uow, "KIT-2", 5100, [("SH-1", 1), ("LA-1", 1)])  # a component never had stock

    await bus.handle(c.AddCartLine(owner=GUEST, sku="KIT-1", quantity=1))
    kit = line_of(await view(bus), "KIT-1")
    assert (kit.available, kit.stock, kit.total) == (True, "low", 5200)  # the socks are low
    with pytest.raises(OutOfStock):
        await bus.handle(c.AddCartLine(owner=GUEST, sku="KIT-2", quantity=1))

    await bus.handle(inv.AdjustStock(sku="SK-1", location_id="main", delta=-4, reason="lost", actor="ops"))
    kit = line_of(await view(bus), "KIT-1")
    assert (kit.available, kit.reason, kit.stock) == (False, "sold out", "sold_out")
