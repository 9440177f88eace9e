"""The SessionStore contract (``SessionStoreContract``) on the in-memory fake and on Redis: a token finds
its customer until it is revoked, and revoking all of a customer's sessions leaves others' alone."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from adapters.memory.customers import MemorySessionStore
from adapters.redis.client import make_redis
from adapters.redis.sessions import RedisSessionStore

TTL = 3600


class SessionStoreContract:
    """What every SessionStore does alike. A subclass provides ``sessions``: an empty store of its kind."""

    @pytest.fixture
    def sessions(self):
        raise NotImplementedError("a subclass provides the adapter under test")

    async def test_a_new_session_finds_its_customer_and_an_unknown_token_finds_none(self, sessions, unique) -> None:
        token = await sessions.create(f"c-{unique}", ttl_seconds=TTL)
        other = await sessions.create(f"c-{unique}", ttl_seconds=TTL)
        assert token != other  # a new token each time
        assert await sessions.customer_of(token, ttl_seconds=TTL) == f"c-{unique}"
        assert await sessions.customer_of(other, ttl_seconds=TTL) == f"c-{unique}"
        assert await sessions.customer_of(f"forged-{unique}", ttl_seconds=TTL) is None

    async def test_a_revoked_session_is_gone_and_the_others_stay(self, sessions, unique) -> None:
        token = await sessions.create(f"c-{unique}", ttl_seconds=TTL)
        kept = await sessions.create(f"c-{unique}", ttl_seconds=TTL)
        await sessions.revoke(token)
        assert await sessions.customer_of(token, ttl_seconds=TTL) is None
        assert await sessions.customer_of(kept, ttl_seconds=TTL) == f"c-{unique}"
        await sessions.revoke(token)  # again: nothing to do
        await sessions.revoke(f"forged-{unique}")

    async def test_revoking_all_ends_every_session_of_that_customer_only(self, sessions, unique) -> None:
        mine = [await sessions.create(f"c-{unique}", ttl_seconds=TTL) for _ in range(3)]
        theirs = await sessions.create(f"d-{unique}", ttl_seconds=TTL)
        await sessions.revoke_all(f"c-{unique}")
        for token in mine:
            assert await sessions.customer_of(token, ttl_seconds=TTL) is None
        assert await sessions.customer_of(theirs, ttl_seconds=TTL) == f"d-{unique}"
        await sessions.revoke_all(f"c-{unique}")  # again: nothing to do
        again = await sessions.create(f"c-{unique}", ttl_seconds=TTL)  # signing in afterwards works
        assert await sessions.customer_of(again, ttl_seconds=TTL) == f"c-{unique}"


class TestMemorySessionStore(SessionStoreContract):
    @pytest.fixture
    def sessions(self) -> MemorySessionStore:
        return MemorySessionStore()


class TestRedisSessionStore(SessionStoreContract):
    @pytest.fixture
    async def sessions(self, redis_url, unique) -> AsyncIterator[RedisSessionStore]:
        redis = make_redis(redis_url)
        yield RedisSessionStore(redis, prefix=f"test:{unique}:session:")
        keys = [k async for k in redis.scan_iter(match=f"test:{unique}:*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()
