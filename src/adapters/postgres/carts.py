"""The durable copy of carts: one row per cart, a version for optimistic saves, JSONB contents."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.postgres import tables as t
from application.carts.codec import cart_from_builtins, cart_to_builtins
from domain.carts.cart import Cart, OwnerKind
from domain.shared.errors import ConcurrencyConflict

_c = t.carts


class PostgresDurableCarts:
    """Its own short transactions (a cart write is never part of another aggregate's)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def get(self, cart_id: str, *, now: datetime) -> Cart | None:
        async with _reading(self._engine) as conn:
            row = (await conn.execute(
                select(_c.c.data, _c.c.version).where(_c.c.id == cart_id, _c.c.expires_at > now)
            )).first()
        return self._cart(row) if row else None

    async def for_customer(self, customer_id: str, *, now: datetime) -> Cart | None:
        async with _reading(self._engine) as conn:
            row = (await conn.execute(
                select(_c.c.data, _c.c.version)
                .where(_c.c.customer_id == customer_id, _c.c.retired.is_(False), _c.c.expires_at > now)
            )).first()
        return self._cart(row) if row else None

    @staticmethod
    def _cart(row: object) -> Cart:
        cart = cart_from_builtins(row.data)  # type: ignore[attr-defined]
        cart.version = row.version  # type: ignore[attr-defined]
        return cart

    async def save(self, carts: Sequence[tuple[Cart, datetime]]) -> None:
        try:
            async with self._engine.begin() as conn:
                for cart, expires_at in carts:
                    data = cart_to_builtins(cart)
                    data["version"] = cart.version + 1
                    values = {
                        "customer_id": cart.owner.id if cart.owner.kind is OwnerKind.CUSTOMER else None,
                        "retired": cart.retired, "version": cart.version + 1, "data": data,
                        "updated_at": cart.updated_at, "expires_at": expires_at,
                    }
                    if cart.version == 0:
                        await conn.execute(insert(_c).values(id=cart.id, **values))
                        continue
                    result = await conn.execute(
                        update(_c).where(_c.c.id == cart.id, _c.c.version == cart.version).values(**values)
                    )
                    if result.rowcount != 1:
                        raise ConcurrencyConflict(f"cart {cart.id} changed since it was read")
        except IntegrityError:
            # A second "first save" of the same guest cart, or a second active cart for a customer.
            raise ConcurrencyConflict("the cart was created concurrently") from None

    async def touch(self, cart_id: str, *, expires_at: datetime) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                update(_c).where(_c.c.id == cart_id, _c.c.expires_at < expires_at).values(expires_at=expires_at)
            )

    async def purge_expired(self, *, now: datetime) -> int:
        async with self._engine.begin() as conn:
            result = await conn.execute(delete(_c).where(_c.c.expires_at <= now))
        return int(result.rowcount or 0)


@asynccontextmanager
async def _reading(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """One read, outside any transaction: no BEGIN and no ROLLBACK around it."""
    async with engine.connect() as conn:
        yield await conn.execution_options(isolation_level="AUTOCOMMIT")
