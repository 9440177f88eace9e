"""The durable copy of carts: one row per cart, a version for optimistic saves, JSONB contents."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime

import msgspec
from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.postgres import tables as t
from adapters.postgres.engine import autocommit_driver, give_back
from adapters.postgres.pipeline import Pipeline
from application.carts.codec import cart_from_builtins, cart_to_builtins
from domain.carts.cart import Cart, OwnerKind
from domain.shared.errors import ConcurrencyConflict

_c = t.carts
_ADD_CART = """
INSERT INTO carts (id, customer_id, retired, version, data, updated_at, expires_at)
VALUES (%s, %s, %s, %s, %s::jsonb, %s, %s)
"""
_GET_CART = "SELECT data, version FROM carts WHERE id = %s AND expires_at > %s"
# At most one active cart per customer (a partial unique index).
_CUSTOMER_CART = "SELECT data, version FROM carts WHERE customer_id = %s AND NOT retired AND expires_at > %s"
_SAVE_CART = """
UPDATE carts SET customer_id = %s, retired = %s, version = %s, data = %s::jsonb, updated_at = %s, expires_at = %s
WHERE id = %s AND version = %s
"""


class PostgresDurableCarts:
    """Its own short transactions (a cart write is never part of another aggregate's)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def get(self, cart_id: str, *, now: datetime) -> Cart | None:
        async with _reading(self._engine) as pipeline:
            rows = await pipeline.read(_GET_CART, (cart_id, now))
        return self._cart(rows[0]) if rows else None

    async def for_customer(self, customer_id: str, *, now: datetime) -> Cart | None:
        async with _reading(self._engine) as pipeline:
            rows = await pipeline.read(_CUSTOMER_CART, (customer_id, now))
        return self._cart(rows[0]) if rows else None

    @staticmethod
    def _cart(row: object) -> Cart:
        cart = cart_from_builtins(row.data)  # type: ignore[attr-defined]
        cart.version = row.version  # type: ignore[attr-defined]
        return cart

    async def save(self, carts: Sequence[tuple[Cart, datetime]]) -> None:
        """One statement for the carts given (one round trip, no BEGIN or COMMIT), all or nothing: a
        cart saved by someone else since it was read, or a "first save" that met an existing row,
        refuses every cart of the call with ``ConcurrencyConflict``."""
        async with _reading(self._engine) as pipeline:
            for cart, expires_at in carts:
                _stage_save(pipeline, cart, expires_at)
            try:
                await pipeline.commit()
            except IntegrityError:
                # A second "first save" of the same guest cart, or a second active cart for a customer.
                raise ConcurrencyConflict("the cart was created concurrently") from None
            finally:
                await pipeline.ended()

    async def touch(self, cart_id: str, *, expires_at: datetime) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                update(_c).where(_c.c.id == cart_id, _c.c.expires_at < expires_at).values(expires_at=expires_at)
            )

    async def purge_expired(self, *, now: datetime) -> int:
        async with self._engine.begin() as conn:
            result = await conn.execute(delete(_c).where(_c.c.expires_at <= now))
        return int(result.rowcount or 0)


class PostgresCartWrites:
    """A cart's save staged in another aggregate's unit of work (its pipeline): written, version
    checked, with that unit of work's other writes at its commit."""

    def __init__(self, pipeline: Pipeline) -> None:
        self._pipeline = pipeline

    async def save(self, cart: Cart, *, expires_at: datetime) -> None:
        _stage_save(self._pipeline, cart, expires_at)


def _stage_save(pipeline: Pipeline, cart: Cart, expires_at: datetime) -> None:
    data = cart_to_builtins(cart)
    data["version"] = cart.version + 1
    values = [
        cart.owner.id if cart.owner.kind is OwnerKind.CUSTOMER else None, cart.retired,
        cart.version + 1, msgspec.json.encode(data).decode(), cart.updated_at, expires_at,
    ]
    if cart.version == 0:
        pipeline.stage(_ADD_CART, [cart.id, *values])
    else:
        pipeline.stage(_SAVE_CART, [*values, cart.id, cart.version], expect_one=f"cart {cart.id}")


@asynccontextmanager
async def _reading(engine: AsyncEngine) -> AsyncIterator[Pipeline]:
    """A connection outside any transaction: a read or a one-statement save needs no BEGIN and no
    ROLLBACK around it."""
    async with engine.connect() as conn:
        driver = await autocommit_driver(conn)
        try:
            yield Pipeline(conn, lazy=True, driver=driver)
        finally:
            await give_back(conn, driver)
