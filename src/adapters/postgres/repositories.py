"""Repositories mapping rows to aggregates by hand."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.postgres import tables as t
from application.staff.ports import StaffToken
from domain.staff.roles import Role


def constraint_name(error: IntegrityError) -> str:
    diag = getattr(error.orig, "diag", None)
    return getattr(diag, "constraint_name", None) or ""


class PostgresStaffTokens:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, token: StaffToken) -> None:
        await self._conn.execute(
            insert(t.staff_tokens).values(
                id=token.id, name=token.name, role=token.role.value, token_hash=token.token_hash,
                created_at=token.created_at, expires_at=token.expires_at,
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
        return None if row is None else _token(row)

    async def all(self) -> list[StaffToken]:
        rows = await self._conn.execute(
            select(t.staff_tokens).order_by(t.staff_tokens.c.created_at, t.staff_tokens.c.id)
        )
        return [_token(row) for row in rows.mappings()]

    async def revoke(self, token_id: str, at: datetime) -> bool:
        result = await self._conn.execute(
            update(t.staff_tokens)
            .where(t.staff_tokens.c.id == token_id, t.staff_tokens.c.revoked_at.is_(None))
            .values(revoked_at=at)
            .returning(t.staff_tokens.c.id)
        )
        return result.first() is not None


def _token(row: Any) -> StaffToken:
    return StaffToken(
        id=row["id"], name=row["name"], role=Role(row["role"]), token_hash=row["token_hash"],
        created_at=row["created_at"], expires_at=row["expires_at"], revoked_at=row["revoked_at"],
    )
