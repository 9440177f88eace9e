"""Builders and read-backs for the unit tests: the bus over in-memory fakes, read through the ports.

A unit test asserts what the system says — an application query, the bus answering one, or a
repository of the unit of work inside ``async with uow() as tx`` — never the fakes' storage. The
readers here open a unit of work and leave it without committing, so reading changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, NamedTuple

from adapters.memory.carts import MemoryCartCache, MemoryDurableCarts
from adapters.memory.clock import FakeClock, SequentialIds
from adapters.memory.outbox import MemoryOutboxStore
from adapters.memory.payments import MemoryPaymentGateway
from adapters.memory.store import MemoryDatabase, MemoryUnitOfWork
from adapters.system.manual_payments import ManualPaymentGateway
from application.carts.pricing import Channels
from application.carts.store import LayeredCartStore
from application.checkout import commands as co
from application.inventory import commands as inv
from application.ports.outbox import OutboxMessage, OutboxStore
from domain.carts.cart import Owner
from domain.orders.order import Order
from domain.shared.address import Address
from tests.support.bus import build_bus

Uow = Callable[[], Any]

GUEST = Owner.guest("guest-1")
BERLIN = Address(name="Ada", line1="Unter den Linden 1", city="Berlin", postal_code="10117", country="DE")


# -- a shop: the whole bus over one in-memory database ---------------------------------------------


class Shop(NamedTuple):
    bus: Any
    uow: Uow
    clock: FakeClock
    card: MemoryPaymentGateway
    outbox: MemoryOutboxStore


def build_shop(cart_store: Callable[[FakeClock], LayeredCartStore] | None = None,
               card: MemoryPaymentGateway | None = None, promotions: Callable[[Uow], Any] | None = None,
               channels: str = "web:EUR:DE:incl:pay-later,us:USD:US-CA:excl:pay-later", **adapters: Any) -> Shop:
    """Two channels (web: EUR in Germany, prices with VAT; us: USD in California, tax on top), manual
    and card payments, the clock at 2026-06-01 12:00 UTC. ``cart_store``: builds the cart store from the
    clock (a store over a misbehaving cache, say), by default the memory one; ``card``: the card provider
    (a subclass of the memory one that misbehaves); ``promotions``: builds the promotion engine from the
    unit of work (by default the stored promotions); ``channels``: others than those two (the
    ``EMPORIUM_CHANNELS`` form); ``adapters``: any other adapter ``build_bus`` takes (``shipping=``,
    ``gate=``, …) in place of its in-memory default."""
    db, ids, clock = MemoryDatabase(), SequentialIds(), FakeClock(datetime(2026, 6, 1, 12, tzinfo=UTC))
    store = (cart_store or default_cart_store)(clock, db)
    card = card or MemoryPaymentGateway("whsec_test")

    def uow() -> MemoryUnitOfWork:
        return MemoryUnitOfWork(db, ids)

    bus = build_bus(
        uow=uow, clock=clock, ids=ids, cart_store=store,
        channels=Channels.parse(channels),
        gateways={"manual": ManualPaymentGateway(), "stripe": card},
        promotions=promotions(uow) if promotions else None, **adapters,
    )
    return Shop(bus=bus, uow=uow, clock=clock, card=card, outbox=MemoryOutboxStore(db))


def default_cart_store(clock: FakeClock, db: MemoryDatabase) -> LayeredCartStore:
    return LayeredCartStore(MemoryDurableCarts(db), MemoryCartCache(), clock)


async def stock(bus: Any, sku: str, units: int) -> None:
    await bus.handle(inv.AddLocation(id="main", name="Main"))
    await bus.handle(inv.ReceiveStock(sku=sku, location_id="main", quantity=units, actor="test"))


async def ready_to_pay(bus: Any, owner: Owner, *, email: str = "ada@example.com", provider: str = "manual",
                       gift_card: str | None = None, method: str = "eu-standard",
                       address: Address = BERLIN) -> tuple[str, Any]:
    """Every step up to payment for the owner's current cart: (checkout id, the payment view)."""
    checkout_id = (await bus.handle(co.StartCheckout(owner=owner))).id
    await bus.handle(co.SetContact(owner=owner, checkout_id=checkout_id, email=email))
    await bus.handle(co.SetAddress(owner=owner, checkout_id=checkout_id, shipping=address))
    await bus.handle(co.ChooseShipping(owner=owner, checkout_id=checkout_id, method_id=method))
    view = await bus.handle(co.StartPayment(owner=owner, checkout_id=checkout_id, provider=provider,
                                            gift_card=gift_card))
    return checkout_id, view


# -- orders ---------------------------------------------------------------------------------------------


async def read_order(uow: Uow, order_id: str) -> Order:
    async with uow() as tx:
        order: Order = await tx.orders.get(order_id)
    return order


async def all_orders(uow: Uow) -> list[Order]:
    async with uow() as tx:
        orders: list[Order] = await tx.orders.all()
    return orders


# -- stock ----------------------------------------------------------------------------------------------


async def available(uow: Uow, sku: str) -> int:
    """Units of ``sku`` for sale, over every location."""
    async with uow() as tx:
        return int((await tx.stock.available([sku]))[sku])


async def _every_level(uow: Uow) -> list[Any]:
    async with uow() as tx:
        return [item for sku in await tx.stock.tracked_skus() for item in await tx.stock.levels(sku)]


async def on_hand(uow: Uow) -> int:
    """Units on the shelves, every SKU and location."""
    return sum(item.on_hand for item in await _every_level(uow))


async def committed(uow: Uow) -> int:
    """Units sold (paid, or promised to a manual order) and not shipped yet."""
    return sum(item.committed for item in await _every_level(uow))


async def tracked_skus(uow: Uow) -> list[str]:
    """SKUs with a stock row anywhere (received, adjusted or transferred at least once)."""
    async with uow() as tx:
        skus: list[str] = await tx.stock.tracked_skus()
    return skus


# -- the outbox and the consumers' marks -----------------------------------------------------------------


class _Peeked(Exception):
    """Leaves a claim with an error, so the messages stay unpublished (the ``OutboxStore`` contract)."""


async def peek_outbox(outbox: OutboxStore, limit: int = 10_000) -> list[OutboxMessage]:
    """The committed messages not yet published, oldest first — read through the store's port and left
    unpublished for the relay."""
    seen: list[OutboxMessage] = []
    try:
        async with outbox.claim(limit) as messages:
            seen.extend(messages)
            raise _Peeked
    except _Peeked:
        pass
    return seen


async def was_processed(uow: Uow, consumer: str, event_id: str) -> bool:
    """Whether ``consumer`` has already handled ``event_id``: marks it in a unit of work that is never
    committed, so the answer changes nothing."""
    async with uow() as tx:
        return not await tx.processed.mark(consumer, event_id)
