"""In-memory fakes of the cart store's two tiers, with the same versioning rules as the real ones."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from datetime import datetime

from adapters.memory.database import MemoryDatabase
from domain.carts.cart import Cart, OwnerKind
from domain.shared.errors import ConcurrencyConflict


class MemoryDurableCarts:
    """``database``: the one a ``MemoryUnitOfWork`` works on, so that its ``carts`` (an order retiring
    its cart) and this store see the same rows; a store of its own when None."""

    def __init__(self, database: MemoryDatabase | None = None) -> None:
        self.rows: dict[str, tuple[Cart, datetime]] = (database or MemoryDatabase()).carts

    async def get(self, cart_id: str, *, now: datetime) -> Cart | None:
        found = self.rows.get(cart_id)
        if found is None or found[1] <= now:
            return None
        return copy.deepcopy(found[0])

    async def for_customer(self, customer_id: str, *, now: datetime) -> Cart | None:
        for cart, expires_at in self.rows.values():
            if (cart.owner.kind is OwnerKind.CUSTOMER and cart.owner.id == customer_id and not cart.retired
                    and expires_at > now):
                return copy.deepcopy(cart)
        return None

    async def save(self, carts: Sequence[tuple[Cart, datetime]]) -> None:
        self.rows.update(_staged(self.rows, carts))  # all or nothing: refused before any row changes

    async def touch(self, cart_id: str, *, expires_at: datetime) -> None:
        rows = self.rows
        if cart_id in rows and rows[cart_id][1] < expires_at:
            rows[cart_id] = (rows[cart_id][0], expires_at)

    async def purge_expired(self, *, now: datetime) -> int:
        rows = self.rows
        expired = [cart_id for cart_id, (_, expires_at) in rows.items() if expires_at <= now]
        for cart_id in expired:
            del rows[cart_id]
        return len(expired)


class MemoryCartWrites:
    """``CartWrites`` in a ``MemoryUnitOfWork``: checked at once, checked again and written at its commit
    (the rows are shared with ``MemoryDurableCarts``, which writes outside any unit of work)."""

    def __init__(self, rows: dict[str, tuple[Cart, datetime]]) -> None:
        self._rows = rows
        self._pending: list[tuple[Cart, datetime]] = []

    async def save(self, cart: Cart, *, expires_at: datetime) -> None:
        pending = [*self._pending, (copy.deepcopy(cart), expires_at)]
        _staged(self._rows, pending)
        self._pending = pending

    def staged(self) -> dict[str, tuple[Cart, datetime]]:
        """The rows this unit of work's saves change, as they would be written; ``ConcurrencyConflict``
        when one no longer fits (someone saved the cart since)."""
        return _staged(self._rows, self._pending)

    def write(self, staged: dict[str, tuple[Cart, datetime]]) -> None:
        self._rows.update(staged)
        self._pending = []


def _staged(
    rows: dict[str, tuple[Cart, datetime]], carts: Sequence[tuple[Cart, datetime]],
) -> dict[str, tuple[Cart, datetime]]:
    """The durable copy's rules: the stored version must be the cart's (none for a first save), and a
    customer has one active cart. The changed rows, versions bumped; the rows given are not touched."""
    changed: dict[str, tuple[Cart, datetime]] = {}
    for cart, expires_at in carts:
        stored = changed.get(cart.id) or rows.get(cart.id)
        if (stored[0].version if stored else 0) != cart.version or (stored is None and cart.version != 0):
            raise ConcurrencyConflict(f"cart {cart.id} changed since it was read")
        if cart.owner.kind is OwnerKind.CUSTOMER and not cart.retired and any(
            other.owner == cart.owner and not other.retired and other.id != cart.id
            for other, _ in {**rows, **changed}.values()
        ):
            raise ConcurrencyConflict("the customer already has an active cart")
        saved = copy.deepcopy(cart)
        saved.version += 1
        changed[cart.id] = (saved, expires_at)
    return changed


class MemoryCartCache:
    """TTLs are recorded, not counted down: ``remaining`` is what a read last refreshed it to."""

    def __init__(self) -> None:
        self.entries: dict[str, tuple[Cart, int]] = {}
        self.remaining: dict[str, int] = {}
        self.pointers: dict[str, str] = {}
        self.touched: set[str] = set()

    def flush(self) -> None:
        self.entries.clear()
        self.remaining.clear()
        self.pointers.clear()

    async def get(self, cart_id: str) -> Cart | None:
        found = self.entries.get(cart_id)
        if found is None:
            return None
        self.remaining[cart_id] = found[1]
        return copy.deepcopy(found[0])

    async def put(self, cart: Cart, *, ttl_seconds: int) -> None:
        current = self.entries.get(cart.id)
        if current is not None and current[0].version >= cart.version:
            self.remaining[cart.id] = current[1]
            return
        self.entries[cart.id] = (copy.deepcopy(cart), ttl_seconds)
        self.remaining[cart.id] = ttl_seconds
        if cart.owner.kind is OwnerKind.CUSTOMER:
            if cart.retired:
                if self.pointers.get(cart.owner.id) == cart.id:
                    del self.pointers[cart.owner.id]
            else:
                self.pointers[cart.owner.id] = cart.id

    async def customer_cart_id(self, customer_id: str) -> str | None:
        return self.pointers.get(customer_id)

    async def first_touch_today(self, cart_id: str) -> bool:
        if cart_id in self.touched:
            return False
        self.touched.add(cart_id)
        return True

    async def get_touching(self, cart_id: str) -> tuple[Cart | None, bool]:
        cart = await self.get(cart_id)
        return cart, cart is not None and await self.first_touch_today(cart_id)

    async def forget(self, cart_id: str) -> None:
        self.entries.pop(cart_id, None)
        self.remaining.pop(cart_id, None)
