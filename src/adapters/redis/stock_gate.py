"""The flash-sale admission gate: per-SKU counters of units still available, in Redis.

A sold-out buyer is answered by one Lua call without touching PostgreSQL. The counters are a
filter, not the truth: PostgreSQL re-checks every "yes" under row locks and CHECK constraints.
"""

from __future__ import annotations

from redis.asyncio import Redis

from application.inventory.ports import GateAnswer

# All counters checked first, then all taken: a multi-SKU cart takes everything or nothing.
_TRY_TAKE = """
local short, unknown = {}, {}
for i, key in ipairs(KEYS) do
    local value = redis.call('GET', key)
    if not value then
        unknown[#unknown + 1] = i
    elseif tonumber(value) < tonumber(ARGV[i]) then
        short[#short + 1] = i
    end
end
if #short > 0 then return {0, short} end
for i, key in ipairs(KEYS) do
    if redis.call('EXISTS', key) == 1 then redis.call('DECRBY', key, ARGV[i]) end
end
return {1, unknown}
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
        self._prefix = prefix
        self._take = redis.register_script(_TRY_TAKE)
        self._give = redis.register_script(_GIVE_BACK)

    def _key(self, sku: str) -> str:
        return self._prefix + sku

    async def try_take(self, requested: dict[str, int]) -> GateAnswer:
        skus = sorted(requested)
        ok, indices = await self._take(keys=[self._key(s) for s in skus], args=[requested[s] for s in skus])
        named = [skus[int(i) - 1] for i in indices]
        if not int(ok):
            return GateAnswer(sold_out=named)
        return GateAnswer(taken={s: requested[s] for s in skus if s not in named}, unknown=named)

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
