"""Repositories mapping rows to aggregates by hand."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.postgres import tables as t
from application.staff.ports import StaffToken
from domain.catalog.product import DuplicateSku, DuplicateSlug, Product, ProductNotFound
from domain.shared.errors import Conflict
from domain.shared.events import Aggregate
from domain.shared.money import Money
from domain.staff.roles import Role


def constraint_name(error: IntegrityError) -> str:
    diag = getattr(error.orig, "diag", None)
    return getattr(diag, "constraint_name", None) or ""


class PostgresProductRepository:
    def __init__(self, conn: AsyncConnection, seen: list[Aggregate]) -> None:
        self._conn = conn
        self._seen = seen

    async def add(self, product: Product) -> None:
        try:
            async with self._conn.begin_nested():
                await self._conn.execute(
                    insert(t.products).values(
                        id=product.id, name=product.name, slug=product.slug, sku=product.sku,
                        price_amount=product.price.amount, currency=product.price.currency,
                        version=product.version,
                    )
                )
        except IntegrityError as error:
            name = constraint_name(error)
            if name == "uq_products_sku":
                raise DuplicateSku(f"SKU {product.sku} exists") from None
            if name == "uq_products_slug":
                raise DuplicateSlug(f"slug {product.slug} exists") from None
            raise Conflict(str(error.orig)) from None
        self._seen.append(product)

    async def get(self, product_id: str) -> Product:
        row = (
            await self._conn.execute(select(t.products).where(t.products.c.id == product_id))
        ).mappings().first()
        if row is None:
            raise ProductNotFound(product_id)
        product = Product(
            id=row["id"], name=row["name"], slug=row["slug"], sku=row["sku"],
            price=Money(row["price_amount"], row["currency"]), version=row["version"],
        )
        self._seen.append(product)
        return product


class PostgresStaffTokens:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, token: StaffToken) -> None:
        await self._conn.execute(
            insert(t.staff_tokens).values(
                id=token.id, name=token.name, role=token.role.value,
                token_hash=token.token_hash, created_at=token.created_at,
            )
        )

    async def by_hash(self, token_hash: str) -> StaffToken | None:
        row = (
            await self._conn.execute(
                select(t.staff_tokens).where(
                    t.staff_tokens.c.token_hash == token_hash, t.staff_tokens.c.revoked_at.is_(None)
                )
            )
        ).mappings().first()
        if row is None:
            return None
        return StaffToken(
            id=row["id"], name=row["name"], role=Role(row["role"]),
            token_hash=row["token_hash"], created_at=row["created_at"],
        )
