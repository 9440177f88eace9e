"""The CatalogVersion contract (``CatalogVersionContract``) on the in-memory fake and on Redis: every bump
gives a version no process has seen; Redis away reads as unknown (keep nothing) and a bump is not an error."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from adapters.memory.catalog_version import MemoryCatalogVersion
from adapters.redis.catalog_version import RedisCatalogVersion
from adapters.redis.client import make_redis


class CatalogVersionContract:
    @pytest.fixture
    def version(self):
        raise NotImplementedError("a subclass provides the adapter under test")

    async def test_each_bump_gives_a_version_not_seen_before(self, version) -> None:
        seen = {await version.current()}
        for _ in range(3):
            await version.bump()
            now = await version.current()
            assert now is not None
            assert now not in seen
            seen.add(now)

    async def test_reading_changes_nothing(self, version) -> None:
        assert await version.current() == await version.current()


class TestMemoryCatalogVersion(CatalogVersionContract):
    @pytest.fixture
    def version(self) -> MemoryCatalogVersion:
        return MemoryCatalogVersion()


class TestRedisCatalogVersion(CatalogVersionContract):
    @pytest.fixture
    async def version(self, redis_url, unique) -> AsyncIterator[RedisCatalogVersion]:
        redis = make_redis(redis_url)
        yield RedisCatalogVersion(redis, key=f"test:{unique}:catalog-version")
        await redis.delete(f"test:{unique}:catalog-version")
        await redis.aclose()

    async def test_two_processes_share_one_version(self, redis_url, unique) -> None:
        one, two = make_redis(redis_url), make_redis(redis_url)
        key = f"test:{unique}:catalog-version"
        try:
            first, second = RedisCatalogVersion(one, key=key), RedisCatalogVersion(two, key=key)
            before = await second.current()
            await first.bump()
            assert await second.current() != before
        finally:
            await one.delete(key)
            await one.aclose()
            await two.aclose()

    async def test_redis_away_reads_as_unknown_and_a_bump_does_not_fail_the_committed_change(self) -> None:
        away = make_redis("redis://127.0.0.1:1/0", wait_seconds=0.5)  # nothing listens on port 1
        try:
            version = RedisCatalogVersion(away, key="test:away:catalog-version")
            assert await version.current() is None
            await version.bump()
        finally:
            await away.aclose()
