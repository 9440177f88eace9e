"""The flash-sale admission gate: per-SKU counters of units still available, in Redis.

A sold-out buyer is answered by one Lua call without touching PostgreSQL. The counters are a
filter, not the truth: PostgreSQL re-checks every "yes" under row locks and CHECK constraints.
"""

from __future__ import annotations

from redis.asyncio import Redis

from adapters.redis.scripts import Scripts
from application.inventory.ports import GateAnswer

# Requests in order; for each, all its counters are checked first, then all taken: a
# multi-SKU cart takes everything or nothing. ARGV: the number of requests, then per request
# its number of lines and (key index, quantity) per line. One answer per request:
# {1, unknown key indices} or {0, short key indices}.
_TRY_TAKE = """
local answers, at = {}, 2
for r = 1, tonumber(ARGV[1]) do
    local lines = tonumber(ARGV[at])
    local first = at + 1
    at = first + 2 * lines
    local short, unknown = {}, {}
    for i = first, at - 1, 2 do
        local key = tonumber(ARGV[i])
        local value = redis.call('GET', KEYS[key])
        if not value then
            unknown[#unknown + 1] = key
        elseif tonumber(value) < tonumber(ARGV[i + 1]) then
            short[#short + 1] = key
        end
    end
    if #short > 0 then
        answers[r] = {0, short}
    else
        for i = first, at - 1, 2 do
            local key = KEYS[tonumber(ARGV[i])]
            if redis.call('EXISTS', key) == 1 then redis.call('DECRBY', key, ARGV[i + 1]) end
        end
        answers[r] = {1, unknown}
    end
end
return answers
"""

_GIVE_BACK = """
for i, key in ipairs(KEYS) do
    if redis.call('EXISTS', key) == 1 then redis.call('INCRBY', key, ARGV[i]) end
end
return 1
"""


class RedisStockGate:
    def __init__(self, redis: Redis, *, prefix: str = "emporium:gate:") -> None:
        self._redis = redis
        scripts = Scripts.of(redis)  # calls of the same moment share a round trip
        self._prefix = prefix
        self._take = scripts.register(_TRY_TAKE)
        self._give = scripts.register(_GIVE_BACK)

    def _key(self, sku: str) -> str:
        return self._prefix + sku

    async def try_take(self, requested: dict[str, int]) -> GateAnswer:
        return (await self.try_take_many([requested]))[0]

    async def try_take_many(self, requests: list[dict[str, int]]) -> list[GateAnswer]:
        skus = sorted({sku for requested in requests for sku in requested})
        index = {sku: n for n, sku in enumerate(skus, start=1)}
        args: list[int] = [len(requests)]
        for requested in requests:
            args.append(len(requested))
            for sku in sorted(requested):
                args += [index[sku], requested[sku]]
        replies = await self._take(keys=[self._key(s) for s in skus], args=args)
        answers = []
        for requested, (ok, indices) in zip(requests, replies, strict=True):
            named = [skus[int(i) - 1] for i in indices]
            if not int(ok):
                answers.append(GateAnswer(sold_out=named))
                continue
            taken = {s: requested[s] for s in sorted(requested) if s not in named}
            answers.append(GateAnswer(taken=taken, unknown=named))
        return answers

    async def short(self, requested: dict[str, int]) -> list[str]:
        skus = sorted(requested)
        if not skus:
            return []
        values = await self._redis.mget([self._key(s) for s in skus])
        return [sku for sku, value in zip(skus, values, strict=True)
                if value is not None and int(value) < requested[sku]]

    async def give_back(self, units: dict[str, int]) -> None:
        if units:
            skus = sorted(units)
            await self._give(keys=[self._key(s) for s in skus], args=[units[s] for s in skus])

    async def refill(self, available: dict[str, int | None], *, only_missing: bool = False) -> None:
        if not available:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for sku, units in available.items():
                if units is None:
                    pipe.delete(self._key(sku))
                else:
                    pipe.set(self._key(sku), max(units, 0), nx=only_missing)
            await pipe.execute()
