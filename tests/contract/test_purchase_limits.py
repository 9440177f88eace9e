"""Purchase limits on PostgreSQL: the holdings port on the fake and the real adapter, and one customer's
fifty checkouts paying at once from many API processes' batchers (their transactions race on PostgreSQL,
each on its own connection) — the limit holds."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from adapters.memory.carts import MemoryCartCache
from adapters.postgres.carts import PostgresDurableCarts
from adapters.postgres.engine import make_engine
from adapters.postgres.unit_of_work import PostgresUnitOfWork
from adapters.system.clock import SystemClock, UuidIdGenerator
from application.carts import commands as cart
from application.carts.store import LayeredCartStore
from application.catalog.commands import CreateProduct
from application.checkout import commands as co
from application.customers.handlers import RegisterCustomer
from application.drops import handlers as d
from application.inventory import commands as inv
from domain.carts.cart import Owner
from domain.drops.drop import DropTerms
from domain.inventory.errors import PurchaseLimitReached
from domain.inventory.limits import Cap
from tests.support.bus import build_bus
from tests.support.unit import BERLIN

pytestmark = pytest.mark.slow


async def test_holdings_count_the_holds_that_still_count_and_remember_their_caps(harness) -> None:
    bus = build_bus(uow=harness.uow(), clock=SystemClock(), ids=harness.ids)
    sku, alice, bob = f"S-{uuid.uuid4().hex[:6]}", "drop:owner:alice", "drop:email:bob"
    await bus.handle(inv.AddLocation(id="main", name="Main"))
    await bus.handle(inv.ReceiveStock(sku=sku, location_id="main", quantity=10, actor="test"))
    first = await bus.handle(inv.ReserveStock(reference=uuid.uuid4().hex, lines=[(sku, 2)]))
    second = await bus.handle(inv.ReserveStock(reference=uuid.uuid4().hex, lines=[(sku, 1)]))
    async with harness.uow()() as tx:
        await tx.holdings.add(first, [(Cap(sku=sku, buyer=alice, limit=3), 2), (Cap(sku=sku, buyer=bob, limit=3), 2)])
        await tx.holdings.add(second, [(Cap(sku=sku, buyer=alice, limit=3), 1)])
        await tx.commit()
    async with harness.uow()() as tx:
        assert await tx.holdings.held({(sku, alice), (sku, bob), (sku, "nobody")}) == {(sku, alice): 3, (sku, bob): 2}
        assert await tx.holdings.held({(sku, alice)}, excluding=first) == {(sku, alice): 1}
        assert await tx.holdings.held(set()) == {}
        assert await tx.holdings.caps_of(second) == [(Cap(sku=sku, buyer=alice, limit=3), 1)]
        assert await tx.holdings.caps_of("no-such-reservation") == []
    assert await bus.handle(inv.ReleaseReservation(reservation_id=first))
    async with harness.uow()() as tx:
        assert await tx.holdings.held({(sku, alice), (sku, bob)}) == {(sku, alice): 1}  # a released hold: no more
    assert await bus.handle(inv.CommitReservation(reservation_id=second))
    async with harness.uow()() as tx:
        assert await tx.holdings.held({(sku, alice)}) == {(sku, alice): 1}  # a sold one still counts


@pytest.fixture
async def wide_engine(database_url):
    engine = make_engine(database_url, pool_size=60, max_overflow=0, pool_timeout=60)
    yield engine
    await engine.dispose()


async def test_fifty_checkouts_of_one_customer_paying_at_once_hold_at_most_the_limit(wide_engine) -> None:
    ids, clock = UuidIdGenerator(), SystemClock()
    carts = LayeredCartStore(PostgresDurableCarts(wide_engine), MemoryCartCache(), clock)

    def bus():
        return build_bus(uow=lambda: PostgresUnitOfWork(wide_engine, ids), clock=clock, ids=ids, cart_store=carts)

    processes = [bus() for _ in range(10)]  # ten API processes' batchers
    admin, tag = processes[0], uuid.uuid4().hex[:6].upper()
    sku = f"LIM-{tag}"
    await admin.handle(CreateProduct(name="Limited", sku=sku, price_amount=5000, currency="EUR", status="active"))
    await admin.handle(inv.AddLocation(id="main", name="Main"))
    await admin.handle(inv.ReceiveStock(sku=sku, location_id="main", quantity=100, actor="test"))
    opens = datetime.now(UTC) + timedelta(hours=1)  # an upcoming drop's limit holds too
    await admin.handle(d.ScheduleDrop(terms=DropTerms(name="Limited", skus=(sku,), opens_at=opens,
                                                      time_zone="UTC", per_customer_limit=2, waiting_room=False)))
    registered = await admin.handle(RegisterCustomer(email=f"c-{tag}@example.com", password="correct horse 42",
                                                     name="Bot"))
    customer = Owner.customer(registered.id)
    await admin.handle(cart.AddCartLine(owner=customer, sku=sku, quantity=1))
    checkouts = []
    for _ in range(50):
        checkout_id = (await admin.handle(co.StartCheckout(owner=customer))).id
        await admin.handle(co.SetContact(owner=customer, checkout_id=checkout_id, email=f"c-{tag}@example.com"))
        await admin.handle(co.SetAddress(owner=customer, checkout_id=checkout_id, shipping=BERLIN))
        await admin.handle(co.ChooseShipping(owner=customer, checkout_id=checkout_id, method_id="eu-standard"))
        checkouts.append(checkout_id)

    async def pay(n: int, checkout_id: str) -> str:
        try:
            await processes[n % len(processes)].handle(
                co.StartPayment(owner=customer, checkout_id=checkout_id, provider="manual"))
        except PurchaseLimitReached:
            return "limit"
        return "held"

    started = asyncio.get_running_loop().time()
    outcomes = Counter(await asyncio.gather(*(pay(n, c) for n, c in enumerate(checkouts))))
    print(f"50 concurrent payments of one customer: {dict(outcomes)} in "
          f"{asyncio.get_running_loop().time() - started:.2f} s")
    assert outcomes == {"held": 2, "limit": 48}
    async with PostgresUnitOfWork(wide_engine, ids) as tx:
        assert (await tx.stock.available([sku]))[sku] == 98
    placed = Counter()
    for checkout_id in checkouts:
        try:
            await admin.handle(co.PlaceOrder(owner=customer, checkout_id=checkout_id))
            placed["order"] += 1
        except Exception as error:
            placed[type(error).__name__] += 1
    async with PostgresUnitOfWork(wide_engine, ids) as tx:
        ordered = sum(line.quantity for order in await tx.orders.all() if order.customer_id == customer.id
                      for line in order.lines if line.sku == sku)
    print(f"placing every checkout: {dict(placed)}; units ordered: {ordered}")
    assert ordered == 1  # the limit let two holds through; one cart then makes one order
