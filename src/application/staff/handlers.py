"""Issuing and checking staff bearer tokens. Only a SHA-256 of a token is ever stored."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from application.messaging.registry import Command, handler
from application.ports.clock import Clock, IdGenerator
from application.staff.ports import StaffToken, StaffUnitOfWork
from domain.staff.roles import Role


@dataclass(frozen=True, slots=True, kw_only=True)
class IssueStaffToken(Command["IssuedToken"]):
    name: str
    role: Role


@dataclass(frozen=True, slots=True, kw_only=True)
class IssuedToken:
    id: str
    role: Role
    token: str


def hash_token(token: str) -> str:
    # Tokens are 256-bit random secrets, so a fast hash is enough (no dictionary to attack).
    return hashlib.sha256(token.encode()).hexdigest()


@handler
async def issue_staff_token(
    cmd: IssueStaffToken, *, uow: Callable[[], StaffUnitOfWork], clock: Clock, ids: IdGenerator
) -> IssuedToken:
    secret = "emp_" + ids.new_secret()
    token = StaffToken(
        id=ids.new_id(), name=cmd.name, role=cmd.role, token_hash=hash_token(secret),
        created_at=clock.now(),
    )
    async with uow() as tx:
        await tx.staff_tokens.add(token)
        await tx.commit()
    return IssuedToken(id=token.id, role=token.role, token=secret)


async def authenticate_staff(token: str, *, uow: Callable[[], StaffUnitOfWork]) -> StaffToken | None:
    async with uow() as tx:
        return await tx.staff_tokens.by_hash(hash_token(token))
