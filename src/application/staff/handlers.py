"""Issuing, listing, revoking and checking staff bearer tokens. Only a SHA-256 of a token is ever
stored; every token expires (90 days unless issued for fewer)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from application.messaging.registry import Command, handler
from application.ports.clock import Clock, IdGenerator
from application.staff.errors import StaffTokenNotFound
from application.staff.ports import StaffToken, StaffUnitOfWork
from domain.shared.errors import InvalidInput
from domain.staff.roles import Role

Uow = Callable[[], StaffUnitOfWork]
DEFAULT_DAYS = 90
MAX_DAYS = 365


@dataclass(frozen=True, slots=True, kw_only=True)
class IssueStaffToken(Command["IssuedToken"]):
    name: str
    role: Role
    days: int = DEFAULT_DAYS


@dataclass(frozen=True, slots=True, kw_only=True)
class IssuedToken:
    id: str
    role: Role
    token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class ListStaffTokens(Command[list[StaffToken]]):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class RevokeStaffToken(Command[None]):
    token_id: str


def hash_token(token: str) -> str:
    # Tokens are 256-bit random secrets, so a fast hash is enough (no dictionary to attack).
    return hashlib.sha256(token.encode()).hexdigest()


@handler
async def issue_staff_token(cmd: IssueStaffToken, *, uow: Uow, clock: Clock, ids: IdGenerator) -> IssuedToken:
    if not 1 <= cmd.days <= MAX_DAYS:
        raise InvalidInput(f"a staff token lives 1 to {MAX_DAYS} days")
    secret = "emp_" + ids.new_secret()
    now = clock.now()
    token = StaffToken(
        id=ids.new_id(), name=cmd.name, role=cmd.role, token_hash=hash_token(secret),
        created_at=now, expires_at=now + timedelta(days=cmd.days),
    )
    async with uow() as tx:
        await tx.staff_tokens.add(token)
        await tx.commit()
    return IssuedToken(id=token.id, role=token.role, token=secret, expires_at=token.expires_at)


@handler
async def list_staff_tokens(query: ListStaffTokens, *, uow: Uow) -> list[StaffToken]:
    async with uow() as tx:
        return await tx.staff_tokens.all()


@handler
async def revoke_staff_token(cmd: RevokeStaffToken, *, uow: Uow, clock: Clock) -> None:
    async with uow() as tx:
        if not await tx.staff_tokens.revoke(cmd.token_id, clock.now()):
            raise StaffTokenNotFound(f"no active staff token {cmd.token_id}")
        await tx.commit()


async def authenticate_staff(token: str, *, uow: Uow, now: datetime) -> StaffToken | None:
    """The token's holder, unless the token is unknown, revoked or expired at ``now``."""
    async with uow() as tx:
        found = await tx.staff_tokens.by_hash(hash_token(token))
    return found if found is not None and found.valid_at(now) else None
