from __future__ import annotations

from adapters.memory.clock import FakeClock, SequentialIds
from adapters.memory.store import MemoryDatabase, MemoryUnitOfWork
from application.staff.handlers import IssueStaffToken, authenticate_staff, hash_token, issue_staff_token
from domain.staff.roles import Role, role_allows


async def test_a_token_is_stored_only_as_a_hash_and_authenticates() -> None:
    db = MemoryDatabase()
    ids = SequentialIds()
    uow = lambda: MemoryUnitOfWork(db, ids)  # noqa: E731
    issued = await issue_staff_token(
        IssueStaffToken(name="ops", role=Role.FULFILMENT), uow=uow, clock=FakeClock(), ids=ids
    )
    assert issued.token.startswith("emp_")
    async with uow() as tx:  # the one token issued, found by its hash; the secret itself is no key
        stored = await tx.staff_tokens.by_hash(hash_token(issued.token))
        assert await tx.staff_tokens.by_hash(issued.token) is None
    assert stored is not None
    assert issued.token not in stored.token_hash
    assert issued.token not in repr(stored)  # nor in any other field
    staff = await authenticate_staff(issued.token, uow=uow)
    assert staff is not None
    assert staff.role is Role.FULFILMENT
    assert await authenticate_staff(issued.token + "x", uow=uow) is None


def test_the_owner_may_do_everything_other_roles_only_their_own() -> None:
    assert role_allows(Role.OWNER, frozenset({Role.MERCHANDISER}))
    assert role_allows(Role.MERCHANDISER, frozenset({Role.MERCHANDISER}))
    assert not role_allows(Role.SUPPORT, frozenset({Role.MERCHANDISER}))
