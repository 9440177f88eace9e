from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from adapters.postgres.engine import make_engine
from tests.contract.harness import MemoryHarness, PostgresHarness


@pytest.fixture(params=["memory", "postgres"])
async def harness(request: pytest.FixtureRequest, database_url: str) -> AsyncIterator[MemoryHarness | PostgresHarness]:
    """Each contract test runs once on the in-memory fake and once on the real adapter."""
    if request.param == "memory":
        yield MemoryHarness()
        return
    engine = make_engine(database_url, pool_size=5)
    h = PostgresHarness(engine)
    try:
        yield h
    finally:
        await h.outbox_store.close()
        await engine.dispose()
