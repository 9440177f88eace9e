"""The CartStore contract (``CartStoreContract``): the in-memory fake and Redis (hot) + PostgreSQL (durable)
behave alike."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from adapters.memory.carts import MemoryCartCache, MemoryDurableCarts
from adapters.memory.clock import FakeClock, SequentialIds
from adapters.memory.store import MemoryDatabase, MemoryUnitOfWork
from adapters.postgres.carts import PostgresDurableCarts
from adapters.postgres.engine import make_engine
from adapters.postgres.unit_of_work import PostgresUnitOfWork
from adapters.redis.carts import RedisCartCache
from adapters.redis.client import make_redis
from application.carts import commands as c
from application.carts.store import LayeredCartStore
from application.catalog.commands import CreateProduct
from application.inventory.commands import SetSkuPolicy
from domain.carts.cart import Cart, Owner
from domain.shared.errors import ConcurrencyConflict, Conflict
from tests.support.bus import build_bus

GUEST_TTL, CUSTOMER_TTL = 600, 3600
# A "short" TTL, far from both: long enough that no stall of a busy machine lets the key lapse (or
# eats the slack) between setting it and reading it, short enough that a refresh is unmistakable.
SOON = 60


@dataclass
class World:
    store: LayeredCartStore
    clock: FakeClock
    flush: Any  # () -> awaitable: drop the hot copy (a Redis flush or restart)
    ttl: Any  # (cart_id) -> awaitable[int | None]: the hot copy's remaining TTL
    expire_soon: Any  # (cart_id) -> awaitable: make the hot copy's TTL short
    uow: Any
    ids: SequentialIds


def new_cart(world: World, owner: Owner, cart_id: str | None = None) -> Cart:
    now = world.clock.now()
    return Cart(id=cart_id or world.ids.new_id(), owner=owner, currency="EUR", channel="web",
                created_at=now, updated_at=now)


class CartStoreContract:
    """What every CartStore does alike. A subclass provides ``world``: a store of its kind with ways to look at
    and disturb its hot copy."""

    @pytest.fixture
    def world(self):
        raise NotImplementedError("a subclass provides the adapter under test")

    async def test_save_bumps_the_version_and_a_stale_save_conflicts(self, world) -> None:
        cart = new_cart(world, Owner.guest("g"))
        cart = new_cart(world, Owner.guest(cart.id), cart.id)
        cart.add(line_id="l1", sku="A", quantity=1, now=world.clock.now(), seen_unit_price=100)
        await world.store.save(cart)
        assert cart.version == 1
        first, second = await world.store.get(cart.id), await world.store.get(cart.id)
        first.set_quantity("l1", 2, now=world.clock.now())
        await world.store.save(first)
        second.set_quantity("l1", 5, now=world.clock.now())
        with pytest.raises(ConcurrencyConflict):
            await world.store.save(second)
        stored = await world.store.get(cart.id)
        assert (stored.version, stored.lines[0].quantity) == (2, 2)

    async def test_a_second_first_save_of_one_cart_conflicts(self, world) -> None:
        cart_id = world.ids.new_id()
        await world.store.save(new_cart(world, Owner.guest(cart_id), cart_id))
        with pytest.raises(ConcurrencyConflict):
            await world.store.save(new_cart(world, Owner.guest(cart_id), cart_id))

    async def test_a_flushed_cache_is_rebuilt_from_the_durable_copy(self, world) -> None:
        cart_id = world.ids.new_id()
        cart = new_cart(world, Owner.guest(cart_id), cart_id)
        cart.add(line_id="l1", sku="A", quantity=3, now=world.clock.now(), seen_unit_price=100)
        await world.store.save(cart)
        await world.flush()
        assert await world.ttl(cart_id) is None
        restored = await world.store.get(cart_id)
        assert (restored.version, [(x.sku, x.quantity) for x in restored.lines]) == (1, [("A", 3)])
        assert await world.ttl(cart_id) is not None  # cached again

    async def test_reading_refreshes_the_ttl_of_the_owner_kind(self, world) -> None:
        guest_id = world.ids.new_id()
        await world.store.save(new_cart(world, Owner.guest(guest_id), guest_id))
        customer_cart = new_cart(world, Owner.customer(f"c-{guest_id}"))
        await world.store.save(customer_cart)
        for cart_id, ttl in ((guest_id, GUEST_TTL), (customer_cart.id, CUSTOMER_TTL)):
            await world.expire_soon(cart_id)
            assert await world.ttl(cart_id) <= SOON
            await world.store.get(cart_id)
            assert ttl - SOON <= await world.ttl(cart_id) <= ttl

    async def test_a_customer_has_one_active_cart_found_from_any_device(self, world) -> None:
        customer = f"cust-{world.ids.new_id()}"
        cart = new_cart(world, Owner.customer(customer))
        await world.store.save(cart)
        await world.flush()  # a different API process / device with a cold cache
        found = await world.store.for_customer(customer)
        assert found is not None
        assert found.id == cart.id
        with pytest.raises(ConcurrencyConflict):
            await world.store.save(new_cart(world, Owner.customer(customer)))
        found.retire(now=world.clock.now())
        await world.store.save(found)
        assert await world.store.for_customer(customer) is None
        await world.store.save(new_cart(world, Owner.customer(customer)))  # retired carts do not count
        assert (await world.store.for_customer(customer)).id != cart.id

    async def test_the_cache_never_goes_back_to_an_older_version(self, world) -> None:
        cart_id = world.ids.new_id()
        cart = new_cart(world, Owner.guest(cart_id), cart_id)
        await world.store.save(cart)
        old = copy.deepcopy(cart)
        cart.add(line_id="l1", sku="A", quantity=1, now=world.clock.now(), seen_unit_price=None)
        await world.store.save(cart)
        await world.store._cache.put(old, ttl_seconds=GUEST_TTL)  # a slow process finishing late
        assert (await world.store.get(cart_id)).version == 2

    async def test_expired_carts_are_gone_from_the_durable_copy(self, world) -> None:
        cart_id = world.ids.new_id()
        await world.store.save(new_cart(world, Owner.guest(cart_id), cart_id))
        await world.flush()
        world.clock.advance(timedelta(seconds=GUEST_TTL + 1))
        assert await world.store.get(cart_id) is None
        assert await world.store._durable.purge_expired(now=world.clock.now()) >= 1

    async def test_parallel_add_line_requests_on_one_cart_lose_no_line(self, world) -> None:
        """Many adds of different SKUs at once (on PostgreSQL: separate connections in parallel)."""
        bus = build_bus(uow=world.uow, clock=world.clock, ids=world.ids, cart_store=world.store)
        skus = [f"P{world.ids.new_id()}" for _ in range(20)]
        for sku in skus:
            await bus.handle(CreateProduct(name=f"Product {sku}", sku=sku, price_amount=1000, currency="EUR",
                                           status="active"))
            await bus.handle(SetSkuPolicy(sku=sku, track_inventory=False))  # sold without counting stock
        owner = Owner.customer(f"cust-{world.ids.new_id()}")
        await bus.handle(c.AddCartLine(owner=owner, sku=skus[0], quantity=1))  # the cart exists
        await asyncio.gather(*(bus.handle(c.AddCartLine(owner=owner, sku=sku, quantity=1)) for sku in skus))
        await asyncio.gather(*(bus.handle(c.AddCartLine(owner=owner, sku=skus[0], quantity=1)) for _ in range(5)))
        cart = await world.store.for_customer(owner.id, fresh=True)
        quantities = {line.sku: line.quantity for line in cart.lines}
        assert quantities == {skus[0]: 7, **dict.fromkeys(skus[1:], 1)}
        assert cart.version == 1 + len(skus) + 5


    async def test_a_cart_saved_in_another_unit_of_work_is_written_at_its_commit(self, world) -> None:
        """An order retires its cart in the order's own transaction (``CartWrites``)."""
        cart = new_cart(world, Owner.guest(world.ids.new_id()))
        cart.add(line_id="l1", sku="A", quantity=1, now=world.clock.now(), seen_unit_price=100)
        await world.store.save(cart)
        cart.retire(now=world.clock.now())
        async with world.uow() as tx:
            await tx.carts.save(cart, expires_at=world.store.expiry_of(cart))
            assert not (await world.store.get(cart.id, fresh=True)).retired  # not before the commit
            await tx.commit()
        await world.store.saved(cart)
        assert cart.version == 2
        for fresh in (True, False):
            stored = await world.store.get(cart.id, fresh=fresh)
            assert (stored.retired, stored.version) == (True, 2)

    async def test_a_stale_cart_refuses_the_whole_unit_of_work(self, world) -> None:
        cart = new_cart(world, Owner.guest(world.ids.new_id()))
        await world.store.save(cart)
        stale = copy.deepcopy(cart)
        cart.add(line_id="l1", sku="A", quantity=1, now=world.clock.now(), seen_unit_price=100)
        await world.store.save(cart)  # saved by someone else since ``stale`` was read
        other = new_cart(world, Owner.guest(world.ids.new_id()))
        stale.retire(now=world.clock.now())
        with pytest.raises(Conflict):
            async with world.uow() as tx:
                await tx.carts.save(other, expires_at=world.store.expiry_of(other))
                await tx.carts.save(stale, expires_at=world.store.expiry_of(stale))
                await tx.commit()
        assert await world.store.get(other.id, fresh=True) is None  # all or nothing
        kept = await world.store.get(cart.id, fresh=True)
        assert (kept.retired, kept.version, len(kept.lines)) == (False, 2, 1)

    async def test_a_unit_of_work_left_without_a_commit_writes_no_cart(self, world) -> None:
        cart = new_cart(world, Owner.guest(world.ids.new_id()))
        async with world.uow() as tx:
            await tx.carts.save(cart, expires_at=world.store.expiry_of(cart))
        assert await world.store.get(cart.id, fresh=True) is None


class TestMemoryCartStore(CartStoreContract):
    @pytest.fixture
    def world(self, unique) -> World:
        clock = FakeClock()
        ids = SequentialIds(unique)
        cache = MemoryCartCache()
        db = MemoryDatabase()

        async def flush() -> None:
            cache.flush()

        async def ttl(cart_id: str) -> int | None:
            return cache.remaining.get(cart_id)

        async def expire_soon(cart_id: str) -> None:
            cache.remaining[cart_id] = SOON

        store = LayeredCartStore(MemoryDurableCarts(db), cache, clock, guest_ttl=GUEST_TTL, customer_ttl=CUSTOMER_TTL)
        return World(store, clock, flush, ttl, expire_soon, lambda: MemoryUnitOfWork(db, ids), ids)


class TestRedisPostgresCartStore(CartStoreContract):
    @pytest.fixture
    async def world(self, database_url, redis_url, unique) -> AsyncIterator[World]:
        clock = FakeClock()
        ids = SequentialIds(unique)
        engine = make_engine(database_url, pool_size=30, max_overflow=0, pool_timeout=30)
        redis = make_redis(redis_url)
        prefix = f"test:{unique}:cart:"

        async def flush() -> None:
            keys = [k async for k in redis.scan_iter(match=f"{prefix}*")]
            if keys:
                await redis.delete(*keys)

        async def ttl(cart_id: str) -> int | None:
            value = await redis.ttl(prefix + cart_id)
            return value if value > 0 else None

        async def expire_soon(cart_id: str) -> None:
            await redis.expire(prefix + cart_id, SOON)

        store = LayeredCartStore(
            PostgresDurableCarts(engine), RedisCartCache(redis, prefix=prefix), clock,
            guest_ttl=GUEST_TTL, customer_ttl=CUSTOMER_TTL,
        )
        # Carts written by the durable adapter use the fake clock's time, so expiry is the test's to control.
        yield World(store, clock, flush, ttl, expire_soon, lambda: PostgresUnitOfWork(engine, ids), ids)
        await flush()
        await redis.aclose()
        await engine.dispose()


@pytest.mark.parametrize("kind", ["memory", "redis"])
async def test_a_cart_read_says_once_a_day_that_its_durable_expiry_is_due(kind, redis_url, unique) -> None:
    """The cache's read and its once-a-day touch mark are one call (one Redis round trip per cart read)."""
    redis = make_redis(redis_url)
    prefix = f"test:{unique}:cart:"
    cache = MemoryCartCache() if kind == "memory" else RedisCartCache(redis, prefix=prefix)
    clock, ids = FakeClock(), SequentialIds()
    cart = Cart(id=ids.new_id(), owner=Owner.guest("g"), currency="EUR", channel="web",
                created_at=clock.now(), updated_at=clock.now())
    try:
        assert await cache.get_touching(cart.id) == (None, False)  # nothing cached: no mark either
        await cache.put(cart, ttl_seconds=GUEST_TTL)
        first, due = await cache.get_touching(cart.id)
        assert (first is not None and first.id, due) == (cart.id, True)
        again, due = await cache.get_touching(cart.id)
        assert (again is not None and again.id, due) == (cart.id, False)
        assert await cache.first_touch_today(cart.id) is False  # the same mark as the separate call's
    finally:
        keys = [k async for k in redis.scan_iter(match=f"{prefix}*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()
