"""Search adapters under test: the fake, PostgreSQL, and a real Meilisearch started for the run."""

from __future__ import annotations

import os
import uuid
import warnings
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from adapters.meilisearch.index import MeilisearchSearchIndex
from adapters.memory.search import MemorySearchIndex
from adapters.postgres.engine import make_engine
from adapters.postgres.search import PostgresSearchIndex
from tests.support import meilisearch_server
from tests.support.waiting import GENEROUS

REQUIRE_MEILISEARCH = os.environ.get("EMPORIUM_REQUIRE_MEILISEARCH") == "1"


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


@pytest.fixture(params=["memory", "postgres", "meilisearch"])
async def search_index(request: pytest.FixtureRequest, database_url: str) -> AsyncIterator[Any]:
    """An empty index of each kind (PostgreSQL's is the test database's, cleared; Meilisearch's is new)."""
    if request.param == "memory":
        yield MemorySearchIndex()
        return
    if request.param == "postgres":
        engine = make_engine(database_url, pool_size=2)
        index = PostgresSearchIndex(engine)
        await index.clear()
        await index.set_synonyms([])
        try:
            yield index
        finally:
            await engine.dispose()
        return
    server = request.getfixturevalue("meilisearch")
    if isinstance(server, str):
        pytest.skip(server)
    meili = MeilisearchSearchIndex(server.url, api_key=server.master_key, index=f"test_{uuid.uuid4().hex[:12]}",
                                   timeout=GENEROUS)  # per HTTP request; a busy machine answers late, not never
    try:
        yield meili
    finally:
        await meili.drop()
        await meili.close()
