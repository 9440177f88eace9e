from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from application.ports.unit_of_work import UnitOfWork
from domain.staff.roles import Role


@dataclass(frozen=True, slots=True, kw_only=True)
class StaffToken:
    id: str
    name: str
    role: Role
    token_hash: str
    created_at: datetime


class StaffTokenRepository(Protocol):
    async def add(self, token: StaffToken) -> None: ...

    async def by_hash(self, token_hash: str) -> StaffToken | None:
        """The unrevoked token whose SHA-256 is ``token_hash``."""
        ...


class StaffUnitOfWork(UnitOfWork, Protocol):
    staff_tokens: StaffTokenRepository
