"""The cart store: a hot cache in front of a durable, versioned copy.

Writes go to the durable copy first (a versioned UPDATE: the one place a concurrent change is
detected), then to the cache, which only ever accepts a newer version. Reads come from the cache
and fall back to the durable copy, repopulating the cache — so a cache flush or restart loses
nothing. After a conflict a handler reads ``fresh`` (the durable copy) so a stale cache entry
can never make it conflict forever.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from application.carts.ports import CartCache, DurableCarts
from application.ports.clock import Clock
from domain.carts.cart import Cart, OwnerKind

logger = logging.getLogger(__name__)

GUEST_TTL = 7 * 24 * 3600
CUSTOMER_TTL = 30 * 24 * 3600


class LayeredCartStore:
    def __init__(
        self, durable: DurableCarts, cache: CartCache, clock: Clock, *,
        guest_ttl: int = GUEST_TTL, customer_ttl: int = CUSTOMER_TTL,
    ) -> None:
        self._durable = durable
        self._cache = cache
        self._clock = clock
        self._guest_ttl = guest_ttl
        self._customer_ttl = customer_ttl

    def ttl_of(self, cart: Cart) -> int:
        return self._customer_ttl if cart.owner.kind is OwnerKind.CUSTOMER else self._guest_ttl

    async def _cached(self, cart_id: str) -> Cart | None:
        try:
            cart, first_today = await self._cache.get_touching(cart_id)
            if cart is not None and first_today:
                now = self._clock.now()
                await self._durable.touch(cart_id, expires_at=now + timedelta(seconds=self.ttl_of(cart)))
            return cart
        except Exception as error:  # noqa: BLE001 - the cache is an optimisation; the durable copy answers
            logger.warning("cart cache read failed, using the durable copy: %s", error)
            return None

    async def _touched(self, cart_id: str) -> None:
        try:
            await self._cache.first_touch_today(cart_id)
        except Exception as error:  # noqa: BLE001 - at worst the expiry is written once more today
            logger.warning("cart cache write failed for %s: %s", cart_id, error)

    async def _remember(self, cart: Cart) -> None:
        try:
            await self._cache.put(cart, ttl_seconds=self.ttl_of(cart))
        except Exception as error:  # noqa: BLE001
            logger.warning("cart cache write failed for %s: %s", cart.id, error)
            try:
                await self._cache.forget(cart.id)
            except Exception:  # noqa: BLE001 - a cache that cannot be written cannot serve stale data either
                logger.warning("cart cache unavailable")

    async def get(self, cart_id: str, *, fresh: bool = False) -> Cart | None:
        if not fresh:
            cached = await self._cached(cart_id)
            if cached is not None:
                return cached
        cart = await self._durable.get(cart_id, now=self._clock.now())
        if cart is not None:
            await self._remember(cart)
        return cart

    async def for_customer(self, customer_id: str, *, fresh: bool = False) -> Cart | None:
        if not fresh:
            try:
                cart_id = await self._cache.customer_cart_id(customer_id)
            except Exception as error:  # noqa: BLE001
                logger.warning("cart cache read failed: %s", error)
                cart_id = None
            if cart_id is not None:
                cart = await self._cached(cart_id)
                if cart is not None and not cart.retired and cart.owner.id == customer_id:
                    return cart
        cart = await self._durable.for_customer(customer_id, now=self._clock.now())
        if cart is not None:
            await self._remember(cart)
        return cart

    async def save(self, *carts: Cart) -> None:
        now = self._clock.now()
        await self._durable.save([(cart, now + timedelta(seconds=self.ttl_of(cart))) for cart in carts])
        for cart in carts:
            await self.saved(cart)

    def expiry_of(self, cart: Cart) -> datetime:
        return self._clock.now() + timedelta(seconds=self.ttl_of(cart))

    async def saved(self, cart: Cart) -> None:
        created = cart.version == 0
        cart.version += 1
        await self._remember(cart)
        if created:  # its expiry was just written: no need to push it back on today's first read
            await self._touched(cart.id)

    async def purge_expired(self) -> int:
        """Delete durable copies past their expiry (the cache expires on its own)."""
        return await self._durable.purge_expired(now=self._clock.now())
