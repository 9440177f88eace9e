"""The WaitingRooms contract (``WaitingRoomsContract``) on the in-memory fake and on Redis, held to the
domain's ``WaitingRoom`` on random sequences, and a Redis restart in the middle of a queue.

Time is a hand-moved clock (``at(seconds)`` from the opening): the rooms take ``now`` as an argument.
"""

from __future__ import annotations

import asyncio
import random
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from adapters.memory.waiting_rooms import MemoryWaitingRooms
from adapters.redis.client import make_redis
from adapters.redis.waiting_rooms import RedisWaitingRooms
from application.drops.rooms import RoomFigures, RoomLost, RoomTerms, Seen, TicketRecord, WaitingRooms
from domain.drops.waiting_room import Admission, Standing, WaitingRoom
from domain.shared.errors import InvalidInput
from tests.support.network import free_port
from tests.support.waiting import GENEROUS, eventually

OPENS = datetime(2026, 12, 24, 9, tzinfo=UTC)
DROP = "drop-1"
WAITING = Standing(admission=Admission.WAITING)
ADMITTED = Standing(admission=Admission.ADMITTED)
SOLD_OUT = Standing(admission=Admission.SOLD_OUT)
NOTHING = RoomFigures(joined=0, waiting=0, admitted=0, sold_out=False)


def at(seconds: float) -> datetime:
    return OPENS + timedelta(seconds=seconds)


def terms(*, rate: float = 2.0, burst: int = 1, drop_id: str = DROP) -> RoomTerms:
    return RoomTerms(drop_id=drop_id, opens_at=OPENS, rate=rate, burst=burst)


def ticket(ticket_id: str, *, joined: float, draw: float = 0.5) -> TicketRecord:
    return TicketRecord(ticket_id=ticket_id, joined_at=at(joined), draw_key=draw)


def waiting(position: int, wait_seconds: int) -> Standing:
    return Standing(admission=Admission.WAITING, position=position, wait_seconds=wait_seconds)


async def new_room(rooms: WaitingRooms, room: RoomTerms, *, now: datetime = at(-3600)) -> None:
    await rooms.restore(room, [], admitted=[], sold_out=False, now=now)


async def positions(rooms: WaitingRooms, room: RoomTerms, tickets: list[str], *,
                    now: datetime) -> dict[str, int | None]:
    return {t: (await rooms.standing(room, t, now=now)).standing.position for t in tickets}


class WaitingRoomsContract:
    """What every WaitingRooms does alike. A subclass provides ``rooms``: an adapter holding no room."""

    @pytest.fixture
    def rooms(self) -> WaitingRooms:
        raise NotImplementedError("a subclass provides the adapter under test")

    async def test_a_room_is_lost_until_restored(self, rooms: WaitingRooms) -> None:
        room = terms()
        with pytest.raises(RoomLost):
            await rooms.join(room, ticket("a", joined=-5), now=at(-5))
        with pytest.raises(RoomLost):
            await rooms.standing(room, "a", now=at(-5))
        with pytest.raises(RoomLost):
            await rooms.sell_out(DROP)
        assert await rooms.figures(DROP) == NOTHING
        await new_room(rooms, room)
        assert await rooms.join(room, ticket("a", joined=-5), now=at(-5)) == Seen(standing=WAITING)
        assert await rooms.figures(DROP) == RoomFigures(joined=1, waiting=1, admitted=0, sold_out=False)

    async def test_an_unknown_ticket_has_no_standing_and_its_read_admits_nobody(self, rooms: WaitingRooms) -> None:
        room = terms(rate=1.0)
        await new_room(rooms, room)
        await rooms.join(room, ticket("a", joined=-1), now=at(-1))
        with pytest.raises(KeyError):
            await rooms.standing(room, "nobody", now=at(5))
        assert await rooms.standing(room, "a", now=at(5)) == Seen(standing=ADMITTED, admitted_now=("a",))

    async def test_the_early_crowd_waits_unranked_and_is_ranked_by_its_draw_keys_at_opening(
            self, rooms: WaitingRooms) -> None:
        room = terms(rate=0.1)
        await new_room(rooms, room)
        for name, joined, draw in (("a", -30, 0.7), ("b", -20, 0.2), ("c", -10, 0.5)):
            assert await rooms.join(room, ticket(name, joined=joined, draw=draw), now=at(joined)) == Seen(
                standing=WAITING)
        assert await rooms.standing(room, "a", now=at(-0.001)) == Seen(standing=WAITING)
        assert await positions(rooms, room, ["a", "b", "c"], now=OPENS) == {"b": 1, "c": 2, "a": 3}
        assert (await rooms.join(room, ticket("d", joined=0, draw=0.0), now=OPENS)).standing == waiting(4, 40)
        assert (await rooms.join(room, ticket("e", joined=0.5, draw=0.1), now=at(0.5))).standing.position == 5
        assert await positions(rooms, room, ["a", "b", "c", "d", "e"], now=at(1)) == {
            "b": 1, "c": 2, "a": 3, "d": 4, "e": 5}
        assert await rooms.figures(DROP) == RoomFigures(joined=5, waiting=5, admitted=0, sold_out=False)

    async def test_joining_again_keeps_the_place(self, rooms: WaitingRooms) -> None:
        room = terms(rate=0.25)
        await new_room(rooms, room)
        early = ticket("early", joined=-1, draw=0.9)
        await rooms.join(room, early, now=at(-1))
        await rooms.join(room, ticket("late-1", joined=1), now=at(1))
        await rooms.join(room, ticket("late-2", joined=1.5), now=at(1.5))
        again = ticket("late-1", joined=3, draw=0.0)  # whatever a second join says, the first one counts
        assert (await rooms.join(room, again, now=at(2))).standing.position == 2
        assert (await rooms.join(room, early, now=at(2))).standing.position == 1
        assert (await rooms.standing(room, "late-2", now=at(4))).admitted_now == ("early",)
        assert await rooms.join(room, early, now=at(4)) == Seen(standing=ADMITTED)
        assert await rooms.figures(DROP) == RoomFigures(joined=3, waiting=2, admitted=1, sold_out=False)

    async def test_a_ticket_issued_before_opening_is_ranked_by_its_draw_key_whenever_it_joins(
            self, rooms: WaitingRooms) -> None:
        room = terms(rate=0.1)
        await new_room(rooms, room)
        await rooms.join(room, ticket("early", joined=-5, draw=0.6), now=at(-5))
        await rooms.join(room, ticket("late", joined=1), now=at(1))
        slow = ticket("slow", joined=-1, draw=0.3)  # issued before opening, its join reached the room after
        assert (await rooms.join(room, slow, now=at(2))).standing.position == 1
        assert await positions(rooms, room, ["early", "late"], now=at(2)) == {"early": 2, "late": 3}

    async def test_a_ticket_recorded_a_little_earlier_never_pushes_an_admitted_one_back(
            self, rooms: WaitingRooms) -> None:
        room = terms(rate=1.0)
        await new_room(rooms, room)
        await rooms.join(room, ticket("first", joined=0.25), now=at(0.25))
        await rooms.join(room, ticket("third", joined=0.75), now=at(0.75))
        assert (await rooms.standing(room, "first", now=at(1))).admitted_now == ("first",)
        skewed = ticket("second", joined=0.125)  # another process, its clock a little behind
        assert (await rooms.join(room, skewed, now=at(1.125))).standing == waiting(1, 1)
        assert (await rooms.standing(room, "first", now=at(1.125))).standing == ADMITTED
        assert (await rooms.standing(room, "third", now=at(1.125))).standing.position == 2

    async def test_admission_follows_the_rate_and_a_quiet_spell_saves_up_no_more_than_the_burst(
            self, rooms: WaitingRooms) -> None:
        room = terms(rate=2.0, burst=3)
        await new_room(rooms, room)
        names = [f"t{n}" for n in range(10)]
        for n, name in enumerate(names):
            await rooms.join(room, ticket(name, joined=-60 + n, draw=n / 10), now=at(-60 + n))
        assert (await rooms.figures(DROP)).admitted == 0  # nobody asked after opening: nobody admitted yet
        assert await rooms.standing(room, "t9", now=at(10)) == Seen(standing=waiting(7, 4),
                                                                  admitted_now=("t0", "t1", "t2"))
        assert await rooms.standing(room, "t0", now=at(10)) == Seen(standing=ADMITTED)
        assert (await rooms.standing(room, "t3", now=at(10.25))).admitted_now == ()
        assert (await rooms.standing(room, "t9", now=at(10.5))).admitted_now == ("t3",)
        assert (await rooms.standing(room, "t9", now=at(10.2))).admitted_now == ()  # a clock read late earns nothing
        assert (await rooms.join(room, ticket("t10", joined=11.5), now=at(11.5))).admitted_now == ("t4", "t5")
        assert await rooms.figures(DROP) == RoomFigures(joined=11, waiting=5, admitted=6, sold_out=False)

    async def test_a_ceiling_bounds_the_tickets_admitted_in_all_whatever_the_rate_owes(
            self, rooms: WaitingRooms) -> None:
        room = terms(rate=10.0, burst=20)
        await new_room(rooms, room)
        tickets = [ticket(f"t{n}", joined=0.001 * (n + 1)) for n in range(8)]
        for record in tickets:
            await rooms.join(room, record, now=at(0.01), ceiling=0)
        first = await rooms.standing(room, "t0", now=at(1), ceiling=3)
        assert first.admitted_now == ("t0", "t1", "t2")
        again = await rooms.standing(room, "t3", now=at(2), ceiling=3)
        assert again == Seen(standing=Standing(admission=Admission.WAITING, position=1))  # held back: no wait told
        assert (await rooms.standing(room, "t3", now=at(2), ceiling=1)).admitted_now == ()
        risen = await rooms.join(room, tickets[3], now=at(2), ceiling=5)
        assert risen == Seen(standing=ADMITTED, admitted_now=("t3", "t4"))
        assert (await rooms.standing(room, "t5", now=at(2.5))).admitted_now == ("t5", "t6", "t7")  # no ceiling
        assert (await rooms.figures(room.drop_id)).admitted == 8
        with pytest.raises(ValueError, match="ceiling"):
            await rooms.standing(room, "t5", now=at(3), ceiling=-1)

    async def test_reads_at_the_same_moment_admit_each_ticket_once(self, rooms: WaitingRooms) -> None:
        room = terms(rate=2.0, burst=3)
        await new_room(rooms, room)
        for n in range(10):
            await rooms.join(room, ticket(f"t{n}", joined=-10, draw=n / 10), now=at(-10))
        seen = await asyncio.gather(*(rooms.standing(room, f"t{n % 10}", now=at(30)) for n in range(40)))
        assert sorted(t for s in seen for t in s.admitted_now) == ["t0", "t1", "t2"]

    async def test_the_wait_is_estimated_from_the_position_the_rate_and_what_is_already_owed(
            self, rooms: WaitingRooms) -> None:
        room = terms(rate=0.5, burst=4)
        await new_room(rooms, room)
        for n in range(6):
            await rooms.join(room, ticket(f"t{n}", joined=-1, draw=n / 10), now=at(-1))
        assert [(await rooms.standing(room, f"t{n}", now=OPENS)).standing.wait_seconds for n in range(3)] == [2, 4, 6]
        assert await rooms.standing(room, "t1", now=at(3)) == Seen(standing=waiting(1, 1), admitted_now=("t0",))
        assert (await rooms.standing(room, "t5", now=at(3))).standing == waiting(5, 9)

    async def test_a_ticket_owed_a_whole_place_waits_no_longer(self, rooms: WaitingRooms) -> None:
        room = terms(rate=1.0, burst=5)
        await new_room(rooms, room)
        assert await rooms.join(room, ticket("first", joined=10), now=at(10)) == Seen(standing=waiting(1, 0))
        assert await rooms.standing(room, "first", now=at(10)) == Seen(standing=ADMITTED, admitted_now=("first",))

    async def test_a_sell_out_is_told_to_everyone_waiting_and_after_while_the_admitted_stay_admitted(
            self, rooms: WaitingRooms) -> None:
        room = terms(rate=1.0)
        await new_room(rooms, room)
        for n, name in enumerate(("a", "b", "c")):
            await rooms.join(room, ticket(name, joined=-1, draw=n / 10), now=at(-1))
        assert (await rooms.standing(room, "c", now=at(1))).admitted_now == ("a",)
        await rooms.sell_out(DROP)
        assert await rooms.standing(room, "a", now=at(2)) == Seen(standing=ADMITTED)
        assert [await rooms.standing(room, t, now=at(100)) for t in ("b", "c")] == [Seen(standing=SOLD_OUT)] * 2
        assert await rooms.join(room, ticket("d", joined=101), now=at(101)) == Seen(standing=SOLD_OUT)
        assert await rooms.figures(DROP) == RoomFigures(joined=4, waiting=0, admitted=1, sold_out=True)

    async def test_a_sell_out_before_opening_tells_the_early_crowd_too(self, rooms: WaitingRooms) -> None:
        room = terms()
        await new_room(rooms, room)
        await rooms.join(room, ticket("early", joined=-10), now=at(-10))
        await rooms.sell_out(DROP)
        assert await rooms.standing(room, "early", now=at(-5)) == Seen(standing=SOLD_OUT)
        assert await rooms.standing(room, "early", now=at(5)) == Seen(standing=SOLD_OUT)

    async def test_restore_ranks_the_records_and_keeps_the_admitted_admitted(self, rooms: WaitingRooms) -> None:
        room = terms(rate=1.0, burst=5)
        records = [ticket("a", joined=-9, draw=0.8), ticket("b", joined=-8, draw=0.1), ticket("c", joined=-7, draw=0.4),
                   ticket("d", joined=2), ticket("e", joined=3), ticket("f", joined=-6, draw=0.6)]
        await rooms.restore(room, records, admitted=["b", "c"], sold_out=False, now=at(30))
        assert await rooms.figures(DROP) == RoomFigures(joined=6, waiting=4, admitted=2, sold_out=False)
        assert await rooms.standing(room, "b", now=at(30)) == Seen(standing=ADMITTED)
        assert await positions(rooms, room, ["f", "a", "d", "e"], now=at(30)) == {"f": 1, "a": 2, "d": 3, "e": 4}
        # The bucket starts empty at the restore, not at the opening: one admission a second from there.
        assert (await rooms.standing(room, "e", now=at(31))).admitted_now == ("f",)

    async def test_a_room_restored_before_opening_counts_from_the_opening(self, rooms: WaitingRooms) -> None:
        room = terms(rate=1.0, burst=5)
        await rooms.restore(room, [ticket(t, joined=-20, draw=n / 10) for n, t in enumerate("abc")],
                            admitted=[], sold_out=False, now=at(-10))
        assert await rooms.standing(room, "c", now=at(-1)) == Seen(standing=WAITING)
        assert (await rooms.standing(room, "c", now=at(2))).admitted_now == ("a", "b")

    async def test_a_room_can_be_restored_sold_out(self, rooms: WaitingRooms) -> None:
        room = terms()
        await rooms.restore(room, [ticket("a", joined=-2), ticket("b", joined=-1)], admitted=["a"], sold_out=True,
                            now=at(60))
        assert [(await rooms.standing(room, t, now=at(61))).standing for t in "ab"] == [ADMITTED, SOLD_OUT]
        assert await rooms.figures(DROP) == RoomFigures(joined=2, waiting=0, admitted=1, sold_out=True)

    async def test_restore_leaves_a_room_that_exists_as_it_is(self, rooms: WaitingRooms) -> None:
        room = terms(rate=0.25)
        await rooms.restore(room, [ticket("a", joined=-2)], admitted=[], sold_out=False, now=at(-5))
        await rooms.join(room, ticket("b", joined=1), now=at(1))
        await rooms.restore(terms(rate=50.0, burst=9), [ticket("a", joined=-2), ticket("x", joined=-1)],
                            admitted=["a"], sold_out=True, now=at(2))
        assert await rooms.figures(DROP) == RoomFigures(joined=2, waiting=2, admitted=0, sold_out=False)
        with pytest.raises(KeyError):
            await rooms.standing(room, "x", now=at(2))
        assert await rooms.standing(room, "b", now=at(2)) == Seen(standing=waiting(2, 6))  # still its own terms

    async def test_of_restores_at_once_the_first_wins_whole(self, rooms: WaitingRooms) -> None:
        room = terms()
        batches = [[ticket(f"r{n}-{k}", joined=-1, draw=k / 100) for k in range(n + 1)] for n in range(8)]
        await asyncio.gather(*(rooms.restore(room, batch, admitted=[], sold_out=False, now=at(-1))
                               for batch in batches))
        joined = (await rooms.figures(DROP)).joined
        winner = batches[joined - 1]
        assert [(await rooms.standing(room, t.ticket_id, now=OPENS)).standing.position for t in winner] == list(
            range(1, joined + 1))
        for batch in batches:
            if batch is not winner:
                with pytest.raises(KeyError):
                    await rooms.standing(room, batch[-1].ticket_id, now=OPENS)

    async def test_forget_drops_the_room(self, rooms: WaitingRooms) -> None:
        room = terms()
        await rooms.restore(room, [ticket("a", joined=-1)], admitted=[], sold_out=True, now=at(-1))
        await rooms.forget(DROP)
        await rooms.forget(DROP)  # forgetting what is gone is no error
        assert await rooms.figures(DROP) == NOTHING
        with pytest.raises(RoomLost):
            await rooms.standing(room, "a", now=at(1))
        await new_room(rooms, room)
        assert await rooms.join(room, ticket("b", joined=1), now=at(1)) == Seen(standing=waiting(1, 0))
        assert await rooms.figures(DROP) == RoomFigures(joined=1, waiting=1, admitted=0, sold_out=False)

    async def test_rooms_are_kept_apart(self, rooms: WaitingRooms) -> None:
        first, second = terms(rate=0.25, drop_id="drop-a"), terms(rate=0.25, drop_id="drop-b")
        await new_room(rooms, first)
        await new_room(rooms, second)
        await rooms.join(first, ticket("a", joined=1), now=at(1))
        await rooms.sell_out("drop-b")
        with pytest.raises(KeyError):
            await rooms.standing(second, "a", now=at(1))
        assert (await rooms.standing(first, "a", now=at(1))).standing == waiting(1, 3)

    async def test_bad_terms_and_draw_keys_are_refused(self, rooms: WaitingRooms) -> None:
        with pytest.raises(InvalidInput):
            await new_room(rooms, terms(rate=0.0))
        with pytest.raises(InvalidInput):
            await new_room(rooms, terms(burst=0))
        with pytest.raises(ValueError, match="draw key"):
            await rooms.restore(terms(), [ticket("a", joined=-1, draw=1.0)], admitted=[], sold_out=False, now=OPENS)
        assert await rooms.figures(DROP) == NOTHING
        await new_room(rooms, terms())
        with pytest.raises(ValueError, match="draw key"):
            await rooms.join(terms(), ticket("a", joined=-1, draw=-0.5), now=OPENS)

    # Each subclass runs it on its own adapter (the differing executors); every example takes a fresh drop id
    # in the fixture's adapter (the function-scoped fixture).
    @settings(max_examples=40,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.differing_executors])
    @given(rate=st.sampled_from([0.1, 0.3, 0.7, 2.0, 3.0]) | st.floats(min_value=0.05, max_value=50),
           burst=st.integers(1, 5),
           start=st.integers(1, 5_000_000), steps=st.lists(st.one_of(
               st.tuples(st.just("join"), st.floats(min_value=0, max_value=1, exclude_max=True)),
               st.tuples(st.just("rejoin"), st.integers(0, 1_000)),
               st.tuples(st.just("read"), st.integers(0, 1_000)),
               st.tuples(st.just("advance"), st.sampled_from([100_000, 200_000, 700_000]) | st.integers(0, 3_000_000)),
               st.tuples(st.just("ceiling"), st.integers(-1, 12)),  # -1: none from then on
           ), max_size=40), sell_out_at=st.none() | st.integers(0, 40))
    # 0.2 + 0.7 + 0.1 seconds at one a second owe 0.9999999999999999 admissions: not one yet, in doubles.
    @example(rate=1.0, burst=1, start=1, sell_out_at=None, steps=[
        ("join", 0.5), ("advance", 1), ("advance", 200_000), ("read", 0), ("advance", 700_000), ("read", 0),
        ("advance", 100_000), ("read", 0), ("advance", 1), ("read", 0)])
    async def test_random_sequences_stand_every_ticket_where_the_domains_room_does(
            self, rooms: WaitingRooms, rate: float, burst: int, start: int,
            steps: list[tuple[str, float]], sell_out_at: int | None) -> None:
        drop_id = uuid.uuid4().hex  # examples share the fixture's adapter
        room = terms(rate=rate, burst=burst, drop_id=drop_id)
        model = WaitingRoom(drop_id=drop_id, opens_at=OPENS, rate=rate, burst=burst)
        records: list[TicketRecord] = []
        draws: dict[str, float] = {}
        admitted = 0
        ceiling: int | None = None
        now = OPENS - timedelta(microseconds=start)
        await new_room(rooms, room, now=now)

        def due() -> tuple[str, ...]:
            if not model.opened and now >= OPENS:
                model.open(now=now, draw=lambda early: sorted(early, key=lambda t: (draws[t], t)))
            return tuple(model.admit_due(now=now, ceiling=ceiling))

        for step, (kind, value) in enumerate(steps):
            if step == sell_out_at:
                model.sell_out()
                await rooms.sell_out(drop_id)
            if kind == "advance":
                now += timedelta(microseconds=int(value))
                continue
            if kind == "ceiling":
                ceiling = None if value < 0 else int(value)
                continue
            if kind == "join":  # ids in the order of joining: tickets joined at the same moment tie by id
                record = TicketRecord(ticket_id=f"t{len(records):03d}", joined_at=now, draw_key=value)
                records.append(record)
                draws[record.ticket_id] = value
            elif not records:
                continue
            else:
                record = records[int(value) % len(records)]
            admitted_now = due()  # the domain's room admits first, as the port's rooms do
            if kind == "read":
                seen = await rooms.standing(room, record.ticket_id, now=now, ceiling=ceiling)
                expected = Seen(admitted_now=admitted_now, standing=model.standing(record.ticket_id, ceiling=ceiling))
            else:
                seen = await rooms.join(room, record, now=now, ceiling=ceiling)
                expected = Seen(admitted_now=admitted_now, standing=model.join(record.ticket_id, ceiling=ceiling))
            assert seen == expected, f"step {step}: {kind} {record.ticket_id} at {now - OPENS}"
            admitted += len(expected.admitted_now)
        assert await rooms.figures(drop_id) == RoomFigures(joined=len(records), waiting=model.waiting,
                                                           admitted=admitted, sold_out=model.sold_out)


class TestMemoryWaitingRooms(WaitingRoomsContract):
    @pytest.fixture
    def rooms(self) -> MemoryWaitingRooms:
        return MemoryWaitingRooms()


async def _delete_keys(redis: Redis, pattern: str) -> None:
    keys = [k async for k in redis.scan_iter(match=pattern)]
    if keys:
        await redis.delete(*keys)


class TestRedisWaitingRooms(WaitingRoomsContract):
    @pytest.fixture
    async def rooms(self, redis_url: str, unique: str) -> AsyncIterator[RedisWaitingRooms]:
        redis = make_redis(redis_url)
        yield RedisWaitingRooms(redis, prefix=f"test:{unique}:rooms:")
        await _delete_keys(redis, f"test:{unique}:*")
        await redis.aclose()

    async def test_the_keys_are_the_prefixed_rooms_and_nothing_expires(self, redis_url: str, unique: str) -> None:
        redis = make_redis(redis_url)
        rooms = RedisWaitingRooms(redis, prefix=f"test:{unique}:rooms:")
        room = terms(rate=1.0)
        try:
            await rooms.restore(room, [ticket("a", joined=-2, draw=0.1), ticket("b", joined=-1, draw=0.2)],
                                admitted=[], sold_out=False, now=at(-5))
            await rooms.standing(room, "b", now=at(1))
            keys = sorted([k.decode() async for k in redis.scan_iter(match=f"test:{unique}:*")])
            assert keys == [f"test:{unique}:rooms:{DROP}:{name}" for name in ("admitted", "line", "meta")]
            assert [await redis.ttl(k) for k in keys] == [-1, -1, -1]
            await rooms.forget(DROP)
            assert [k async for k in redis.scan_iter(match=f"test:{unique}:*")] == []
        finally:
            await _delete_keys(redis, f"test:{unique}:*")
            await redis.aclose()


# -- a Redis restart in the middle of a queue ----------------------------------------------------------


@dataclass
class PrivateRedis:
    """A ``redis-server`` of the test's own, keeping nothing on disk: stopped, it forgets everything."""

    directory: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        log = (self.directory / "redis.log").open("ab")
        self.process = subprocess.Popen(
            ["/usr/bin/redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
             "--appendonly", "no", "--dir", str(self.directory)],
            stdout=log, stderr=subprocess.STDOUT,
        )
        log.close()

    async def answering(self) -> None:
        client = Redis.from_url(self.url, socket_connect_timeout=1, socket_timeout=5)

        async def pong() -> bool:
            assert self.process is not None
            assert self.process.poll() is None, (self.directory / "redis.log").read_text()
            try:
                return bool(await client.ping())
            except (RedisConnectionError, OSError):
                return False

        try:
            await eventually(pong, interval=0.05, what=f"redis-server on port {self.port} to answer PING")
        finally:
            await client.aclose()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=GENEROUS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=GENEROUS)
        self.process = None


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(directory=tmp_path, port=free_port())
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.slow
async def test_a_room_redis_lost_in_a_restart_is_restored_from_the_records_as_it_stood(
        private_redis: PrivateRedis) -> None:
    private_redis.start()
    await private_redis.answering()
    redis = make_redis(private_redis.url)
    rooms = RedisWaitingRooms(redis, prefix="test:restart:")
    steady = MemoryWaitingRooms()  # the same room, never lost
    room = terms(rate=2.0, burst=3)
    try:
        draw = random.Random(22)
        records = [ticket(f"early-{n}", joined=-50 + n, draw=draw.random()) for n in range(8)]
        records += [ticket(f"late-{n}", joined=0.1 * (n + 1)) for n in range(4)]
        admitted: list[str] = []
        for both in (rooms, steady):
            await new_room(both, room)
            for record in records:
                seen = await both.join(room, record, now=record.joined_at)
                if both is rooms:
                    admitted += seen.admitted_now
        ids = [r.ticket_id for r in records]
        assert admitted == []  # 0.8 admissions owed by the last join: nobody in yet
        seen = await rooms.standing(room, "late-3", now=at(5))  # 3 owed (the burst): 3 in, none owed
        admitted += seen.admitted_now
        await steady.standing(room, "late-3", now=at(5))
        assert len(admitted) == 3
        before = {t: await rooms.standing(room, t, now=at(5)) for t in ids}
        assert before == {t: await steady.standing(room, t, now=at(5)) for t in ids}

        private_redis.stop()
        private_redis.start()
        await private_redis.answering()

        with pytest.raises(RoomLost):
            await rooms.standing(room, "late-3", now=at(5))
        with pytest.raises(RoomLost):
            await rooms.join(room, records[0], now=at(5))
        assert await rooms.figures(DROP) == NOTHING
        await rooms.restore(room, records, admitted=admitted, sold_out=False, now=at(5))
        assert {t: await rooms.standing(room, t, now=at(5)) for t in ids} == before
        for moment in (5.5, 6, 30):  # and it carries on as the room that was never lost
            assert [await rooms.standing(room, t, now=at(moment)) for t in ids] == [
                await steady.standing(room, t, now=at(moment)) for t in ids]
        assert await rooms.figures(DROP) == await steady.figures(DROP)
    finally:
        await redis.aclose()
