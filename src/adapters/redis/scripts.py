"""Lua scripts whose calls, made at the same moment, share one round trip to Redis.

A busy API process makes many small script calls at once: an Idempotency-Key claimed for one
request while another's answer is stored and a third reads its cart. Each call alone costs a round
trip — a send, a wake-up of the event loop, a receive — which is most of what it costs. ``Scripts``
(one per Redis client) sends the calls that arrive while a round trip is in flight together in the
next one, as a pipeline without MULTI (each script is atomic on its own; the calls are unrelated).
A lone call goes at once and alone, as before; each caller gets its own answer or its own error.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError

from application.messaging.grouping import Grouped

MAX_GROUP = 256


@dataclass(frozen=True, slots=True)
class _Call:
    script: AsyncScript
    keys: Sequence[Any]
    args: Sequence[Any]


class Scripts:
    """The scripts of one Redis client (``Scripts.of(redis)``: every adapter on that client shares it)."""

    _shared: weakref.WeakKeyDictionary[Redis, Scripts] = weakref.WeakKeyDictionary()

    @classmethod
    def of(cls, redis: Redis) -> Scripts:
        scripts = cls._shared.get(redis)
        if scripts is None:
            scripts = cls._shared[redis] = cls(redis)
        return scripts

    def __init__(self, redis: Redis, *, max_group: int = MAX_GROUP) -> None:
        self._redis = redis
        self._calls: Grouped[_Call, Any] = Grouped(self._settle, max_group=max_group, name="redis script group")

    @property
    def round_trips(self) -> int:
        """How many round trips the calls took (tests and benchmarks read it)."""
        return self._calls.groups

    def register(self, source: str) -> Script:
        return Script(self, self._redis.register_script(source))

    async def call(self, script: AsyncScript, keys: Sequence[Any], args: Sequence[Any]) -> Any:
        return await self._calls.submit(_Call(script, keys, args))

    async def _settle(self, calls: list[_Call]) -> list[Any]:
        if len(calls) == 1:
            call = calls[0]
            return [await call.script(keys=call.keys, args=call.args)]  # loads the script if Redis lost it
        answers = await self._pipelined(calls)
        if any(isinstance(answer, NoScriptError) for answer in answers):
            # Redis restarted or its script cache was flushed: load what this group uses, send it again.
            for script in {id(call.script): call.script for call in calls}.values():
                await self._redis.script_load(script.script)
            answers = await self._pipelined(calls)
        return answers

    async def _pipelined(self, calls: list[_Call]) -> list[Any]:
        async with self._redis.pipeline(transaction=False) as pipe:
            for call in calls:
                pipe.evalsha(call.script.sha, len(call.keys), *call.keys, *call.args)
            # A script that fails answers its own caller with its error; the others get their answers.
            return list(await pipe.execute(raise_on_error=False))


class Script:
    """Called like redis-py's script (``await script(keys=[...], args=[...])``), sent with the calls
    of the same moment."""

    def __init__(self, scripts: Scripts, script: AsyncScript) -> None:
        self._scripts = scripts
        self._script = script

    async def __call__(self, keys: Sequence[Any] = (), args: Sequence[Any] = ()) -> Any:
        return await self._scripts.call(self._script, keys, args)
