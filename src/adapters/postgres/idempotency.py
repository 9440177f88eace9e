"""Idempotency keys in PostgreSQL: the primary key (scope, key) decides which request runs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.postgres import tables as t
from application.ports.idempotency import LEASE, Claim, ClaimResult, StoredResponse

_k = t.idempotency_keys
TAKEN_OVER = "taken-over"


class PostgresIdempotencyStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def claim(self, *, scope: str, key: str, request_hash: str, now: datetime) -> ClaimResult:
        async with self._engine.begin() as conn:
            # A claim nobody renewed for LEASE was abandoned (its process died): take it over.
            await conn.execute(
                update(_k).where(_k.c.scope == scope, _k.c.key == key, _k.c.status.is_(None),
                                 _k.c.request_hash == request_hash, _k.c.created_at < now - LEASE)
                .values(created_at=now, request_hash=TAKEN_OVER)
            )
            inserted = (await conn.execute(
                insert(_k).values(scope=scope, key=key, request_hash=request_hash, created_at=now)
                .on_conflict_do_nothing().returning(_k.c.key)
            )).first()
            if inserted is not None:
                return ClaimResult(claim=Claim.NEW)
            taken = (await conn.execute(
                update(_k).where(_k.c.scope == scope, _k.c.key == key, _k.c.request_hash == TAKEN_OVER)
                .values(request_hash=request_hash).returning(_k.c.key)
            )).first()
            if taken is not None:
                return ClaimResult(claim=Claim.NEW)
            row = (await conn.execute(
                select(_k.c.request_hash, _k.c.status, _k.c.headers, _k.c.body)
                .where(_k.c.scope == scope, _k.c.key == key)
            )).first()
        if row is None:  # abandoned between our insert attempt and the read: try again later
            return ClaimResult(claim=Claim.RUNNING)
        if row.request_hash != request_hash:
            return ClaimResult(claim=Claim.MISMATCH)
        if row.status is None:
            return ClaimResult(claim=Claim.RUNNING)
        return ClaimResult(claim=Claim.REPLAY, response=StoredResponse(
            status=row.status, headers=[(k, v) for k, v in row.headers], body=bytes(row.body),
        ))

    async def renew(self, *, claims: Sequence[tuple[str, str]], now: datetime) -> None:
        if not claims:
            return
        async with self._engine.begin() as conn:
            await conn.execute(
                update(_k).where(tuple_(_k.c.scope, _k.c.key).in_(list(claims)), _k.c.status.is_(None))
                .values(created_at=now)
            )

    async def finish(self, *, scope: str, key: str, response: StoredResponse) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                update(_k).where(_k.c.scope == scope, _k.c.key == key)
                .values(status=response.status, headers=[list(h) for h in response.headers], body=response.body)
            )

    async def abandon(self, *, scope: str, key: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(delete(_k).where(_k.c.scope == scope, _k.c.key == key, _k.c.status.is_(None)))

    async def prune(self, *, before: datetime) -> int:
        async with self._engine.begin() as conn:
            result = await conn.execute(delete(_k).where(_k.c.created_at < before))
        return int(result.rowcount or 0)
