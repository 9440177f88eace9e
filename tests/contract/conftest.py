"""Fixtures shared by the contract suites: the unit-of-work adapters, Meilisearch and Stripe's test double."""

from __future__ import annotations

import os
import warnings
from collections.abc import AsyncIterator, Iterator

import pytest

from adapters.postgres.engine import make_engine
from tests.support import meilisearch_server
from tests.support.harness import MemoryHarness, PostgresHarness
from tests.support.stripe_double import LocalStripe, WebhookInbox, running_localstripe, webhook_server

REQUIRE_MEILISEARCH = os.environ.get("EMPORIUM_REQUIRE_MEILISEARCH") == "1"


# -- the unit of work: the in-memory fake and PostgreSQL ---------------------------------------------


@pytest.fixture
def memory_harness() -> MemoryHarness:
    return MemoryHarness()


@pytest.fixture
async def postgres_harness(database_url: str) -> AsyncIterator[PostgresHarness]:
    engine = make_engine(database_url, pool_size=5)
    h = PostgresHarness(engine)
    try:
        yield h
    finally:
        await h.outbox_store.close()
        await engine.dispose()


@pytest.fixture(params=["memory", "postgres"])
def harness(request: pytest.FixtureRequest) -> MemoryHarness | PostgresHarness:
    """Each test that takes it runs once on the in-memory fake and once on the real adapter. A named
    contract suite (``class XContract``) takes ``memory_harness`` or ``postgres_harness`` per subclass."""
    harness: MemoryHarness | PostgresHarness = request.getfixturevalue(f"{request.param}_harness")
    return harness


# -- Meilisearch, started once for the run ------------------------------------------------------------


@pytest.fixture(scope="session")
def meilisearch() -> Iterator[meilisearch_server.Server | str]:
    """A running server, or the reason there is none (each Meilisearch test then skips, saying why)."""
    try:
        with meilisearch_server.running() as server:
            yield server
    except meilisearch_server.Unavailable as error:
        reason = f"Meilisearch unavailable: {error}"
        if REQUIRE_MEILISEARCH:
            pytest.fail(reason)
        warnings.warn(reason, stacklevel=1)
        yield reason


# -- Stripe's test double (localstripe), one per module -----------------------------------------------


@pytest.fixture(scope="module")
def webhook_inbox() -> Iterator[tuple[WebhookInbox, str]]:
    with webhook_server() as served:
        yield served


@pytest.fixture(scope="module")
def localstripe(
    tmp_path_factory: pytest.TempPathFactory, webhook_inbox: tuple[WebhookInbox, str]
) -> Iterator[LocalStripe]:
    inbox, webhook_url = webhook_inbox
    with running_localstripe(tmp_path_factory.mktemp("localstripe"), inbox, webhook_url) as local:
        yield local
