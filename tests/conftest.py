"""Shared fixtures: a freshly migrated test database and unique names per run."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.postgres.engine import make_engine
from adapters.postgres.migrate import ensure_database, upgrade
from tests.support.database import REDIS_URL, database_url_for_tests

# The tests run in development mode, and say so: settings default to production, where the API refuses
# the development secret. Every process a test starts inherits this (tests/security/test_config.py
# sets production explicitly where it checks that refusal).
os.environ["EMPORIUM_ENVIRONMENT"] = "development"

# Property tests measure correctness, not speed: on a busy 2-core CI box a slow example is not a bug.
settings.register_profile("emporium", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("emporium")
# The long run of the sale simulation (tests/unit/test_sale_simulation.py): `pytest --hypothesis-profile=soak`.
# Random (not derandomized) and kept in Hypothesis's example database, so a failure found replays.
settings.register_profile("soak", parent=settings.get_profile("emporium"), max_examples=2_000,
                          stateful_step_count=100, print_blob=True)


@pytest.fixture(scope="session")
def database_url() -> str:
    """A test database created from scratch and migrated once per run."""
    url = database_url_for_tests()
    ensure_database(url, recreate=True)
    upgrade(url)
    return url


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url, pool_size=20, max_overflow=10)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
def redis_url() -> str:
    return REDIS_URL


@pytest.fixture
def unique() -> str:
    """A short random suffix: tests share one database, so names must not collide."""
    return uuid.uuid4().hex[:10]
