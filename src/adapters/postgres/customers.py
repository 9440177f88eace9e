"""Customers (one row, the address book as JSONB) and one-time password-reset tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.postgres import tables as t
from adapters.postgres.versions import LoadedVersions
from domain.customers.customer import Customer, CustomerNotFound, EmailTaken
from domain.shared.address import Address
from domain.shared.errors import ConcurrencyConflict
from domain.shared.events import Aggregate

_cu = t.customers
_ADDRESS_FIELDS = ("id", "name", "line1", "line2", "city", "postal_code", "country", "region", "phone", "company")


def _row(customer: Customer) -> dict[str, Any]:
    return {
        "email": customer.email, "name": customer.name, "password_hash": customer.password_hash,
        "groups": sorted(customer.groups),
        "addresses": [{f: getattr(a, f) for f in _ADDRESS_FIELDS} for a in customer.addresses],
        "default_shipping": customer.default_shipping, "default_billing": customer.default_billing,
        "marketing_opt_in": customer.marketing_opt_in, "created_at": customer.created_at,
        "version": customer.version,
    }


class PostgresCustomers:
    def __init__(self, conn: AsyncConnection, seen: list[Aggregate]) -> None:
        self._conn = conn
        self._seen = seen
        self._versions = LoadedVersions("customer")

    async def add(self, customer: Customer) -> None:
        try:
            async with self._conn.begin_nested():
                await self._conn.execute(insert(_cu).values(id=customer.id, **_row(customer)))
        except IntegrityError:
            raise EmailTaken("an account with this e-mail exists") from None
        self._seen.append(customer)
        self._versions.remember(customer.id, customer.version)

    async def get(self, customer_id: str) -> Customer:
        row = (await self._conn.execute(select(_cu).where(_cu.c.id == customer_id))).first()
        if row is None:
            raise CustomerNotFound(customer_id)
        return self._customer(row)

    async def by_email(self, email: str) -> Customer | None:
        row = (await self._conn.execute(select(_cu).where(_cu.c.email == email))).first()
        return self._customer(row) if row else None

    def _customer(self, row: Any) -> Customer:
        customer = Customer(
            id=row.id, email=row.email, name=row.name, password_hash=row.password_hash,
            created_at=row.created_at, groups=frozenset(row.groups),
            addresses=[Address(**a) for a in row.addresses], default_shipping=row.default_shipping,
            default_billing=row.default_billing, marketing_opt_in=row.marketing_opt_in, version=row.version,
        )
        self._seen.append(customer)
        self._versions.remember(customer.id, customer.version)
        return customer

    async def save(self, customer: Customer) -> None:
        expected = self._versions.expected(customer.id)
        if customer.version == expected:
            return  # unchanged since it was loaded
        result = await self._conn.execute(
            update(_cu).where(_cu.c.id == customer.id, _cu.c.version == expected).values(**_row(customer))
        )
        if result.rowcount != 1:
            raise ConcurrencyConflict(f"customer {customer.id} changed since it was read")
        self._versions.remember(customer.id, customer.version)


class PostgresPasswordResets:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, *, token_hash: str, customer_id: str, expires_at: datetime) -> None:
        await self._conn.execute(insert(t.password_resets).values(
            token_hash=token_hash, customer_id=customer_id, expires_at=expires_at,
        ))

    async def consume(self, token_hash: str, *, now: datetime) -> str | None:
        pr = t.password_resets
        row = (await self._conn.execute(
            update(pr)
            .where(pr.c.token_hash == token_hash, pr.c.used_at.is_(None), pr.c.expires_at > now)
            .values(used_at=now)
            .returning(pr.c.customer_id)
        )).first()
        return row.customer_id if row else None
