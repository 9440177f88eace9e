"""Script calls of the same moment share a round trip to Redis (``adapters.redis.scripts``), and each
caller still gets its own answer or its own error — on a real Redis."""

from __future__ import annotations

import asyncio

import pytest
from redis.exceptions import ResponseError

from adapters.redis.client import make_redis
from adapters.redis.scripts import Scripts

_ECHO = """
if ARGV[1] == 'boom' then return redis.error_reply('boom for ' .. KEYS[1]) end
return redis.call('INCRBY', KEYS[1], ARGV[1])
"""


@pytest.fixture
async def redis(redis_url, unique):
    client = make_redis(redis_url)
    yield client, f"test:{unique}:scripts:"
    keys = [k async for k in client.scan_iter(match=f"test:{unique}:scripts:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


async def test_calls_of_the_same_moment_share_round_trips_and_each_gets_its_own_answer(redis) -> None:
    client, prefix = redis
    scripts = Scripts(client)
    add = scripts.register(_ECHO)
    answers = await asyncio.gather(*(add(keys=[f"{prefix}{n % 5}"], args=[n]) for n in range(100)))
    # Each key's counter grew by its callers' amounts, in the order they called.
    for key in range(5):
        mine = [n for n in range(100) if n % 5 == key]
        assert [answers[n] for n in mine] == [sum(mine[: i + 1]) for i in range(len(mine))]
    print(f"100 calls in {scripts.round_trips} round trips")
    assert scripts.round_trips < 100


async def test_a_failing_call_answers_its_own_caller_only(redis) -> None:
    client, prefix = redis
    add = Scripts(client).register(_ECHO)
    answers = await asyncio.gather(*(add(keys=[f"{prefix}e{n}"], args=["boom" if n == 3 else n])
                                     for n in range(8)), return_exceptions=True)
    assert isinstance(answers[3], ResponseError)
    assert "boom" in str(answers[3])
    assert [a for n, a in enumerate(answers) if n != 3] == [n for n in range(8) if n != 3]


async def test_a_lone_call_goes_at_once_in_one_round_trip(redis) -> None:
    client, prefix = redis
    scripts = Scripts(client)
    add = scripts.register(_ECHO)
    assert await add(keys=[f"{prefix}lone"], args=[7]) == 7
    assert scripts.round_trips == 1


async def test_scripts_lost_by_redis_are_loaded_again(redis) -> None:
    """Redis restarted without its script cache: a group, and a lone call, load their scripts again."""
    client, prefix = redis
    add = Scripts(client).register(_ECHO)
    await client.script_flush()
    answers = await asyncio.gather(*(add(keys=[f"{prefix}f"], args=[1]) for _ in range(10)))
    assert sorted(answers) == list(range(1, 11))
    await client.script_flush()
    assert await add(keys=[f"{prefix}f"], args=[1]) == 11


async def test_every_adapter_on_one_client_shares_its_scripts(redis, redis_url) -> None:
    client, _ = redis
    assert Scripts.of(client) is Scripts.of(client)
    other = make_redis(redis_url)
    try:
        assert Scripts.of(other) is not Scripts.of(client)
    finally:
        await other.aclose()
