from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adapters.memory.clock import FakeClock, SequentialIds
from adapters.memory.store import MemoryDatabase, MemoryUnitOfWork
from application.staff.errors import StaffTokenNotFound
from application.staff.handlers import (
    IssueStaffToken,
    ListStaffTokens,
    RevokeStaffToken,
    authenticate_staff,
    hash_token,
    issue_staff_token,
)
from domain.shared.errors import InvalidInput
from domain.staff.roles import Role, role_allows
from tests.support.bus import build_bus

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


async def test_a_token_is_stored_only_as_a_hash_and_authenticates() -> None:
    db = MemoryDatabase()
    ids = SequentialIds()
    uow = lambda: MemoryUnitOfWork(db, ids)  # noqa: E731
    issued = await issue_staff_token(
        IssueStaffToken(name="ops", role=Role.FULFILMENT), uow=uow, clock=FakeClock(NOW), ids=ids
    )
    assert issued.token.startswith("emp_")
    async with uow() as tx:  # the one token issued, found by its hash; the secret itself is no key
        stored = await tx.staff_tokens.by_hash(hash_token(issued.token))
        assert await tx.staff_tokens.by_hash(issued.token) is None
    assert stored is not None
    assert issued.token not in stored.token_hash
    assert issued.token not in repr(stored)  # nor in any other field
    staff = await authenticate_staff(issued.token, uow=uow, now=NOW)
    assert staff is not None
    assert staff.role is Role.FULFILMENT
    assert await authenticate_staff(issued.token + "x", uow=uow, now=NOW) is None


async def test_a_token_works_until_its_last_instant_and_not_at_its_expiry() -> None:
    db, ids = MemoryDatabase(), SequentialIds()
    uow = lambda: MemoryUnitOfWork(db, ids)  # noqa: E731
    bus = build_bus(uow=uow, clock=FakeClock(NOW), ids=ids)
    issued = await bus.handle(IssueStaffToken(name="temp", role=Role.SUPPORT, days=7))
    assert issued.expires_at == NOW + timedelta(days=7)
    assert await authenticate_staff(issued.token, uow=uow, now=issued.expires_at - timedelta(microseconds=1))
    assert await authenticate_staff(issued.token, uow=uow, now=issued.expires_at) is None


@pytest.mark.parametrize("days", [0, -1, 366])
async def test_a_token_lives_one_to_365_days(days: int) -> None:
    db, ids = MemoryDatabase(), SequentialIds()
    bus = build_bus(uow=lambda: MemoryUnitOfWork(db, ids), clock=FakeClock(NOW), ids=ids)
    with pytest.raises(InvalidInput):
        await bus.handle(IssueStaffToken(name="temp", role=Role.SUPPORT, days=days))
    assert await bus.handle(ListStaffTokens()) == []


async def test_a_revoked_token_is_refused_and_listed_as_revoked() -> None:
    db, ids = MemoryDatabase(), SequentialIds()
    uow = lambda: MemoryUnitOfWork(db, ids)  # noqa: E731
    clock = FakeClock(NOW)
    bus = build_bus(uow=uow, clock=clock, ids=ids)
    kept = await bus.handle(IssueStaffToken(name="kept", role=Role.OWNER))
    gone = await bus.handle(IssueStaffToken(name="gone", role=Role.SUPPORT))
    clock.advance(timedelta(hours=1))
    await bus.handle(RevokeStaffToken(token_id=gone.id))
    assert await authenticate_staff(gone.token, uow=uow, now=clock.now()) is None
    assert await authenticate_staff(kept.token, uow=uow, now=clock.now()) is not None
    listed = {t.name: t.revoked_at for t in await bus.handle(ListStaffTokens())}
    assert listed == {"kept": None, "gone": NOW + timedelta(hours=1)}
    with pytest.raises(StaffTokenNotFound):
        await bus.handle(RevokeStaffToken(token_id=gone.id))
    with pytest.raises(StaffTokenNotFound):
        await bus.handle(RevokeStaffToken(token_id="nope"))


def test_the_owner_may_do_everything_other_roles_only_their_own() -> None:
    assert role_allows(Role.OWNER, frozenset({Role.MERCHANDISER}))
    assert role_allows(Role.MERCHANDISER, frozenset({Role.MERCHANDISER}))
    assert not role_allows(Role.SUPPORT, frozenset({Role.MERCHANDISER}))
