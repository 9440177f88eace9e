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
    expires_at: datetime
    revoked_at: datetime | None = None

    def valid_at(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at


class StaffTokenRepository(Protocol):
    async def add(self, token: StaffToken) -> None: ...

    async def by_hash(self, token_hash: str) -> StaffToken | None:
        """The unrevoked token whose SHA-256 is ``token_hash`` (expired or not: the caller decides)."""
        ...

    async def all(self) -> list[StaffToken]:
        """Every token, revoked ones included, oldest first."""
        ...

    async def revoke(self, token_id: str, at: datetime) -> bool:
        """Revoke a token from ``at``; False when there is no such unrevoked token."""
        ...


class StaffUnitOfWork(UnitOfWork, Protocol):
    staff_tokens: StaffTokenRepository
