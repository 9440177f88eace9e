"""Repositories mapping rows to aggregates by hand."""

from __future__ import annotations

from sqlalchemy import insert, select
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
