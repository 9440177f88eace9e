"""The hot copy of carts in Redis: a hash per cart (version, TTL, JSON), written only forward.

``put`` is one Lua script: it never replaces a newer version with an older one, so two API
processes finishing their saves in either order leave the newest cart cached. Reads refresh
the TTL the cart was cached with (7 days for guests, 30 for customers by default).
"""

from __future__ import annotations

import json

from redis.asyncio import Redis

from adapters.redis.scripts import Scripts
from application.carts.codec import cart_from_builtins, cart_to_builtins
from domain.carts.cart import Cart, OwnerKind

_PUT = """
local current = redis.call('HGET', KEYS[1], 'v')
if current and tonumber(current) >= tonumber(ARGV[1]) then
  redis.call('EXPIRE', KEYS[1], ARGV[2])
  return 0
end
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'ttl', ARGV[2], 'data', ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[2])
if KEYS[2] ~= '' then
  if ARGV[4] == '1' then
    if redis.call('GET', KEYS[2]) == ARGV[5] then redis.call('DEL', KEYS[2]) end
  else
    redis.call('SET', KEYS[2], ARGV[5], 'EX', ARGV[2])
  end
end
return 1
"""

_GET = """
local found = redis.call('HMGET', KEYS[1], 'data', 'ttl')
if found[1] then redis.call('EXPIRE', KEYS[1], found[2]) end
return found[1]
"""

# _GET, and for a cart found the once-a-day touch mark (SET NX): {data, 1 if first touch today}.
_GET_TOUCHING = """
local found = redis.call('HMGET', KEYS[1], 'data', 'ttl')
if not found[1] then return {false, 0} end
redis.call('EXPIRE', KEYS[1], found[2])
local first = redis.call('SET', KEYS[2], 1, 'EX', 86400, 'NX')
return {found[1], first and 1 or 0}
"""


class RedisCartCache:
    def __init__(self, redis: Redis, *, prefix: str = "emporium:cart:") -> None:
        self._redis = redis
        scripts = Scripts.of(redis)  # calls of the same moment share a round trip
        self._prefix = prefix
        self._put = scripts.register(_PUT)
        self._get = scripts.register(_GET)
        self._get_touching = scripts.register(_GET_TOUCHING)

    def _key(self, cart_id: str) -> str:
        return f"{self._prefix}{cart_id}"

    def _customer_key(self, customer_id: str) -> str:
        return f"{self._prefix}customer:{customer_id}"

    async def get(self, cart_id: str) -> Cart | None:
        raw = await self._get(keys=[self._key(cart_id)])
        return cart_from_builtins(json.loads(raw)) if raw else None

    async def put(self, cart: Cart, *, ttl_seconds: int) -> None:
        pointer = self._customer_key(cart.owner.id) if cart.owner.kind is OwnerKind.CUSTOMER else ""
        await self._put(
            keys=[self._key(cart.id), pointer],
            args=[cart.version, ttl_seconds, json.dumps(cart_to_builtins(cart)), "1" if cart.retired else "0", cart.id],
        )

    async def customer_cart_id(self, customer_id: str) -> str | None:
        raw = await self._redis.get(self._customer_key(customer_id))
        return raw.decode() if isinstance(raw, bytes) else raw

    async def first_touch_today(self, cart_id: str) -> bool:
        return bool(await self._redis.set(self._touched_key(cart_id), 1, ex=86_400, nx=True))

    async def get_touching(self, cart_id: str) -> tuple[Cart | None, bool]:
        raw, first = await self._get_touching(keys=[self._key(cart_id), self._touched_key(cart_id)])
        return (cart_from_builtins(json.loads(raw)) if raw else None), bool(first)

    def _touched_key(self, cart_id: str) -> str:
        return f"{self._prefix}touched:{cart_id}"

    async def forget(self, cart_id: str) -> None:
        await self._redis.delete(self._key(cart_id))
