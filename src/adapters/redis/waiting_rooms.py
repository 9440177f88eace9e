"""Drops' waiting rooms in Redis: every operation one atomic script call, O(log n) in the room's tickets.

Every API process answers the room's pollers (thousands a second, 20,000 tickets), so the room lives
where they all see it, and each read is a script: admitting what is due and reading a standing in one
step, two processes can never admit the same ticket twice or count the same second twice.

Keys, per drop (``{prefix}{drop_id}:…``):

- ``meta``, a hash: the terms the room was restored with (``opens``: the opening in epoch microseconds,
  ``rate``, ``burst``), the admission bucket (``allowance``, admissions owed; ``counted``, epoch
  microseconds it was last brought up to date to), ``opened`` (``1`` once a call's ``now`` reached the
  opening) and ``sold`` (``1`` once sold out). The room exists while this hash does.
- ``line``, a sorted set: the tickets not admitted yet. Score: the ticket's draw key (in [0, 1)) when it
  joined before opening, ``1 +`` microseconds from the opening to its ``joined_at`` otherwise; ties by
  ticket id. The scores are the records' own, so a restored room ranks everyone exactly as before.
- ``admitted``, a set: the tickets admitted. Admission pops the line (ZPOPMIN) into it, so a ticket
  recorded a little earlier than one already admitted (two processes' clocks a little apart) queues in
  front of those still waiting and never pushes an admitted ticket back into the line.

A position is ZRANK + 1 once the room has opened; ``joined`` is ZCARD + SCARD. The arithmetic is
``WaitingRoom.admit_due``'s and ``WaitingRoom.standing``'s on the same doubles: times travel as whole
microseconds (exact in a double) and the allowance is stored with 17 significant digits, so the
contract suite can hold this adapter to the domain's room on random sequences, to the last second of a
wait estimate. Time is the callers' ``now``, never Redis's clock. Nothing expires: ``forget`` deletes.
The room keeps the terms it was restored with; ``join`` and ``standing`` name it by ``room.drop_id``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from redis.asyncio import Redis

from adapters.redis.scripts import Scripts
from application.drops.rooms import RoomFigures, RoomLost, RoomTerms, Seen, TicketRecord
from domain.drops.waiting_room import Admission, Standing, WaitingRoom

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)

# redis.call(command..., items...) in slices: Lua's unpack holds a few thousand values at most.
_IN_SLICES = """
local function in_slices(command, items, width)
    for i = 1, #items, width do
        local call = {unpack(command)}
        for j = i, math.min(i + width - 1, #items) do call[#call + 1] = items[j] end
        redis.call(unpack(call))
    end
end
"""

# KEYS: meta, line, admitted. A room's state as numbers, nil when the room does not exist.
_ROOM = _IN_SLICES + """
local function load()
    local m = redis.call('HMGET', KEYS[1], 'opens', 'rate', 'burst', 'allowance', 'counted', 'opened', 'sold')
    if not m[1] then return nil end
    return {opens = tonumber(m[1]), rate = tonumber(m[2]), burst = tonumber(m[3]), allowance = tonumber(m[4]),
            counted = tonumber(m[5]), opened = m[6] == '1', sold = m[7] == '1'}
end

local function holds(ticket)
    return redis.call('ZSCORE', KEYS[2], ticket) or redis.call('SISMEMBER', KEYS[3], ticket) == 1
end

-- WaitingRoom.admit_due: the tickets admitted, in line order; a ceiling below 0 is none.
local function admit_due(room, now, ceiling)
    if now >= room.opens then room.opened = true end
    if not room.opened or room.sold then return {} end
    local earned = room.rate * math.max(0, (now - room.counted) / 1000000)
    room.allowance = math.min(room.burst, room.allowance + earned)
    room.counted = math.max(now, room.counted)
    local due = {}
    local room_for = math.floor(room.allowance)
    if ceiling >= 0 then room_for = math.min(room_for, math.max(0, ceiling - redis.call('SCARD', KEYS[3]))) end
    if room_for >= 1 then
        local popped = redis.call('ZPOPMIN', KEYS[2], room_for)
        for i = 1, #popped, 2 do due[#due + 1] = popped[i] end
        in_slices({'SADD', KEYS[3]}, due, 1000)
    end
    room.allowance = room.allowance - #due
    redis.call('HSET', KEYS[1], 'opened', '1', 'allowance', string.format('%.17g', room.allowance),
               'counted', string.format('%.17g', room.counted))
    return due
end

-- WaitingRoom.standing, with the tickets this call admitted: {admission, admitted, position, wait}; no
-- wait for a ticket the ceiling (below 0: none) holds back.
local function seen(room, ticket, due, ceiling)
    if redis.call('SISMEMBER', KEYS[3], ticket) == 1 then return {'admitted', due, false, false} end
    if room.sold then return {'sold_out', due, false, false} end
    if not room.opened then return {'waiting', due, false, false} end
    local position = redis.call('ZRANK', KEYS[2], ticket) + 1
    if ceiling >= 0 and position > ceiling - redis.call('SCARD', KEYS[3]) then
        return {'waiting', due, position, false}
    end
    return {'waiting', due, position, math.ceil(math.max(0, position - room.allowance) / room.rate)}
end
"""

# ARGV: now, ticket id, its joined_at (epoch microseconds), its draw key, the ceiling (-1: none).
_JOIN = _ROOM + """
local room = load()
if not room then return false end
local ticket = ARGV[2]
local ceiling = tonumber(ARGV[5])
local due = admit_due(room, tonumber(ARGV[1]), ceiling)
if not holds(ticket) then
    local joined = tonumber(ARGV[3])
    if joined < room.opens then
        redis.call('ZADD', KEYS[2], ARGV[4], ticket)
    else
        redis.call('ZADD', KEYS[2], joined - room.opens + 1, ticket)
    end
end
return seen(room, ticket, due, ceiling)
"""

# ARGV: now, ticket id, the ceiling (-1: none). {'unknown'} for a ticket the room does not hold, admitting
# nobody.
_STANDING = _ROOM + """
local room = load()
if not room then return false end
local ticket = ARGV[2]
if not holds(ticket) then return {'unknown'} end
local ceiling = tonumber(ARGV[3])
return seen(room, ticket, admit_due(room, tonumber(ARGV[1]), ceiling), ceiling)
"""

_SELL_OUT = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'sold', '1')
return 1
"""

_FIGURES = """
local sold = redis.call('HGET', KEYS[1], 'sold')
if not sold then return {0, 0, 0, 0} end
local waiting, admitted = redis.call('ZCARD', KEYS[2]), redis.call('SCARD', KEYS[3])
if sold == '1' then return {waiting + admitted, 0, admitted, 1} end
return {waiting + admitted, waiting, admitted, 0}
"""

# ARGV: opens, rate, burst, now, sold (0/1), the number of tickets, then per ticket its id, joined_at and
# draw key, then the admitted ids. 0 when the room exists (left as it is), 1 when created.
_RESTORE = _IN_SLICES + """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local opens, now = tonumber(ARGV[1]), tonumber(ARGV[4])
redis.call('HSET', KEYS[1], 'opens', ARGV[1], 'rate', ARGV[2], 'burst', ARGV[3], 'allowance', '0',
           'counted', string.format('%.17g', math.max(now, opens)), 'opened', now >= opens and '1' or '0',
           'sold', ARGV[5])
local first_admitted = 7 + 3 * tonumber(ARGV[6])
local admitted, is_admitted = {}, {}
for i = first_admitted, #ARGV do
    admitted[#admitted + 1] = ARGV[i]
    is_admitted[ARGV[i]] = true
end
local line = {}
for i = 7, first_admitted - 1, 3 do
    local ticket = ARGV[i]
    if not is_admitted[ticket] then
        local joined = tonumber(ARGV[i + 1])
        line[#line + 1] = joined < opens and ARGV[i + 2] or joined - opens + 1
        line[#line + 1] = ticket
    end
end
in_slices({'SADD', KEYS[3]}, admitted, 1000)
in_slices({'ZADD', KEYS[2], 'NX'}, line, 2000)
return 1
"""

_ADMISSIONS = {"waiting": Admission.WAITING, "admitted": Admission.ADMITTED, "sold_out": Admission.SOLD_OUT}


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // _MICROSECOND


def _ceiling(ceiling: int | None) -> int:
    if ceiling is not None and ceiling < 0:
        raise ValueError(f"a ceiling on admissions is a count, not {ceiling}")
    return -1 if ceiling is None else ceiling


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _check_terms(room: RoomTerms) -> None:
    """``InvalidInput`` for terms the domain's room refuses (naive opening, rate not positive, burst < 1)."""
    WaitingRoom(drop_id=room.drop_id, opens_at=room.opens_at, rate=room.rate, burst=room.burst)


def _check_ticket(ticket: TicketRecord) -> None:
    if not 0.0 <= ticket.draw_key < 1.0:
        raise ValueError(f"ticket {ticket.ticket_id}: a draw key is in [0, 1), not {ticket.draw_key!r}")


class RedisWaitingRooms:
    def __init__(self, redis: Redis, *, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix
        scripts = Scripts.of(redis)  # calls of the same moment share a round trip
        self._join = scripts.register(_JOIN)
        self._standing = scripts.register(_STANDING)
        self._sell_out = scripts.register(_SELL_OUT)
        self._figures = scripts.register(_FIGURES)
        self._restore = scripts.register(_RESTORE)

    def _keys(self, drop_id: str) -> list[str]:
        return [f"{self._prefix}{drop_id}:{name}" for name in ("meta", "line", "admitted")]

    async def join(self, room: RoomTerms, ticket: TicketRecord, *, now: datetime,
                   ceiling: int | None = None) -> Seen:
        _check_ticket(ticket)
        reply = await self._join(keys=self._keys(room.drop_id), args=[
            _micros(now), ticket.ticket_id, _micros(ticket.joined_at), repr(float(ticket.draw_key)),
            _ceiling(ceiling)])
        return self._seen(room.drop_id, ticket.ticket_id, reply)

    async def standing(self, room: RoomTerms, ticket_id: str, *, now: datetime,
                       ceiling: int | None = None) -> Seen:
        reply = await self._standing(keys=self._keys(room.drop_id), args=[_micros(now), ticket_id,
                                                                           _ceiling(ceiling)])
        return self._seen(room.drop_id, ticket_id, reply)

    @staticmethod
    def _seen(drop_id: str, ticket_id: str, reply: Any) -> Seen:
        if reply is None:
            raise RoomLost(f"no waiting room for drop {drop_id}")
        admission = _text(reply[0])
        if admission == "unknown":
            raise KeyError(ticket_id)
        _, admitted, position, wait = reply
        standing = Standing(admission=_ADMISSIONS[admission], position=None if position is None else int(position),
                            wait_seconds=None if wait is None else int(wait))
        return Seen(standing=standing, admitted_now=tuple(_text(t) for t in admitted))

    async def sell_out(self, drop_id: str) -> None:
        if not int(await self._sell_out(keys=self._keys(drop_id)[:1])):
            raise RoomLost(f"no waiting room for drop {drop_id}")

    async def figures(self, drop_id: str) -> RoomFigures:
        joined, waiting, admitted, sold_out = await self._figures(keys=self._keys(drop_id))
        return RoomFigures(joined=int(joined), waiting=int(waiting), admitted=int(admitted),
                           sold_out=bool(int(sold_out)))

    async def restore(self, room: RoomTerms, tickets: Sequence[TicketRecord], *, admitted: Sequence[str],
                      sold_out: bool, now: datetime) -> None:
        _check_terms(room)
        args: list[str | int] = [_micros(room.opens_at), repr(float(room.rate)), room.burst, _micros(now),
                                 int(sold_out), len(tickets)]
        for ticket in tickets:
            _check_ticket(ticket)
            args += [ticket.ticket_id, _micros(ticket.joined_at), repr(float(ticket.draw_key))]
        args += admitted
        await self._restore(keys=self._keys(room.drop_id), args=args)

    async def forget(self, drop_id: str) -> None:
        await self._redis.delete(*self._keys(drop_id))
