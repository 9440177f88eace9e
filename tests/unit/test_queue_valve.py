"""The waiting room's valve (``entrypoints/http/pace.py``): a process takes so many joins and questions at
once, queues so many more in order, and tells the rest to ask again shortly — touching nothing for them."""

from __future__ import annotations

import asyncio
import json
import time
from types import SimpleNamespace
from typing import Any

import pytest

from entrypoints.http.metrics import note_loop_lag
from entrypoints.http.pace import pace_middleware
from entrypoints.http.valve import Valve
from entrypoints.settings import Settings


@pytest.fixture(autouse=True)
def _loop_keeps_up() -> None:
    """The door's valve widens by the process's last sampled loop lag: a test server before may have left a
    busy one; these tests start from a loop that keeps up."""
    note_loop_lag(0.0)


def _scope(app: Any, n: int, method: str = "POST") -> dict[str, Any]:
    return {"type": "http", "method": method, "path": "/store/drops/drop-1/queue", "raw_path": b"",
            "query_string": b"", "headers": [], "client": (f"127.0.0.{n}", 4000), "app": app,
            "http_version": "1.1", "scheme": "http", "server": ("testserver", 80), "root_path": ""}


async def test_the_valve_lets_so_many_through_queues_so_many_in_order_and_refuses_the_rest() -> None:
    release = asyncio.Event()
    order: list[int] = []
    answers: dict[int, tuple[int, dict[str, str], dict[str, Any]]] = {}

    async def room(scope: Any, receive: Any, send: Any) -> None:
        order.append(int(scope["client"][0].rsplit(".", 1)[1]))
        await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    settings = Settings(drop_queue_in_flight=2, drop_queue_backlog=3)
    app = SimpleNamespace(state=SimpleNamespace(container=SimpleNamespace(settings=lambda: settings)))
    gate = pace_middleware(room)

    async def ask(n: int) -> None:
        sent: list[dict[str, Any]] = []

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        await gate(_scope(app, n, "GET" if n % 2 else "POST"), receive, send)
        headers = {k.decode(): v.decode() for k, v in sent[0].get("headers", [])}
        answers[n] = (sent[0]["status"], headers, json.loads(sent[1]["body"] or b"{}"))

    asks = [asyncio.create_task(ask(n)) for n in range(1, 9)]
    await asyncio.sleep(0)  # a turn of the loop: every question has reached the valve
    refused = dict(answers)  # those answered at once
    assert sorted(refused) == [6, 7, 8]  # 2 in flight, 3 waiting: the sixth and later are told to wait
    for status, headers, body in refused.values():
        assert status == 429
        assert body["type"].endswith("/queue-busy")
        assert 2 <= int(headers["retry-after"]) <= 4  # five held, two a second at least: about 3 s
    assert order == [1, 2]
    release.set()
    await asyncio.gather(*asks)
    assert order == [1, 2, 3, 4, 5]  # the waiting ones in the order they came
    assert {n: answers[n][0] for n in range(1, 6)} == dict.fromkeys(range(1, 6), 200)


def test_a_valve_needs_room_for_one() -> None:
    with pytest.raises(ValueError, match="at least one"):
        Valve(in_flight=0, backlog=5)
    valve = Valve(in_flight=1, backlog=0)
    assert (valve.admits(), valve.held) == (True, 0)


class _Shopper:
    """One shopper's question at the ASGI level: what the room's app saw, what was answered."""

    def __init__(self, gate: Any, app: Any, cookies: dict[str, str], *, method: str = "GET") -> None:
        self.gate, self.app, self.cookies, self.method = gate, app, cookies, method
        self.sent: list[dict[str, Any]] = []
        self.hang_up = asyncio.Event()

    async def ask(self) -> None:
        asked = [False]

        async def receive() -> dict[str, Any]:
            if not asked[0]:
                asked[0] = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await self.hang_up.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            self.sent.append(message)

        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items()).encode()
        scope = {**_scope(self.app, 1, self.method), "headers": [(b"cookie", cookie)], "state": {}}
        await self.gate(scope, receive, send)

    @property
    def status(self) -> int | None:
        return self.sent[0]["status"] if self.sent else None


def _app_with(settings: Settings) -> Any:
    return SimpleNamespace(state=SimpleNamespace(container=SimpleNamespace(settings=lambda: settings)))


async def test_a_question_a_little_early_is_held_and_answered_in_full_at_its_moment() -> None:
    from entrypoints.http.pace import PACE_COOKIE, pace_cookie

    settings = Settings(drop_queue_hold_seconds=5)
    reached: list[float] = []

    async def room(scope: Any, receive: Any, send: Any) -> None:
        assert (await receive())["type"] == "http.request"  # the request is still there to be read
        reached.append(time.time())
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    gate, app = pace_middleware(room), _app_with(settings)
    fingerprint = {"emporium_session": "s-1"}
    # Told to ask again in 2 s: its moment is a second before that (pace.SLACK).
    paced = pace_cookie(settings, "drop-1", 2, "s-1", secure=True, same_site="lax", now=time.time())
    moment = float(str(paced.value).rpartition(".")[0])
    shopper = _Shopper(gate, app, {**fingerprint, PACE_COOKIE: str(paced.value)})
    await asyncio.wait_for(shopper.ask(), timeout=30)
    assert shopper.status == 200
    assert reached
    assert reached[0] >= moment
    print(f"held {reached[0] - moment + 1:.2f} s for a moment 1 s away")


async def test_a_held_question_whose_shopper_hangs_up_is_forgotten_and_one_too_early_is_refused() -> None:
    from entrypoints.http.pace import PACE_COOKIE, pace_cookie

    settings = Settings(drop_queue_hold_seconds=5)
    reached: list[str] = []

    async def room(scope: Any, receive: Any, send: Any) -> None:
        reached.append(scope["method"])

    gate, app = pace_middleware(room), _app_with(settings)
    soon = pace_cookie(settings, "drop-1", 4, "s-1", secure=True, same_site="lax")
    shopper = _Shopper(gate, app, {"emporium_session": "s-1", PACE_COOKIE: str(soon.value)})
    asking = asyncio.create_task(shopper.ask())
    await asyncio.sleep(0.2)
    assert not asking.done()
    assert shopper.sent == []
    shopper.hang_up.set()
    await asyncio.wait_for(asking, timeout=30)
    assert (shopper.sent, reached) == ([], [])  # gone: nothing computed, nothing answered

    far = pace_cookie(settings, "drop-1", 30, "s-1", secure=True, same_site="lax")  # beyond the hold
    early = _Shopper(gate, app, {"emporium_session": "s-1", PACE_COOKIE: str(far.value)})
    await asyncio.wait_for(early.ask(), timeout=5)
    assert early.status == 429
    assert reached == []
    headers = dict(early.sent[0]["headers"])
    assert 25 <= int(headers[b"retry-after"]) <= 30


async def test_a_join_keeps_the_moment_it_first_came_through_a_busy_door() -> None:
    from entrypoints.http.pace import ARRIVAL_COOKIE, ARRIVED

    settings = Settings(drop_queue_in_flight=1, drop_queue_backlog=0)
    release = asyncio.Event()
    came: list[float] = []

    async def room(scope: Any, receive: Any, send: Any) -> None:
        came.append(scope["state"][ARRIVED])
        await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    gate, app = pace_middleware(room), _app_with(settings)
    first = _Shopper(gate, app, {"emporium_session": "s-1"}, method="POST")
    busy = asyncio.create_task(first.ask())
    await asyncio.sleep(0)
    second = _Shopper(gate, app, {"emporium_session": "s-2"}, method="POST")
    await second.ask()
    refused_at = time.time()
    assert second.status == 429
    cookies = [v.decode() for k, v in second.sent[0]["headers"] if k == b"set-cookie"]
    arrival = next(c.split(";", 1)[0].split("=", 1)[1] for c in cookies if c.startswith(ARRIVAL_COOKIE))
    release.set()
    await busy
    await asyncio.sleep(0.05)
    again = _Shopper(gate, app, {"emporium_session": "s-2", ARRIVAL_COOKIE: arrival}, method="POST")
    await again.ask()
    assert again.status == 200
    assert came[-1] <= refused_at  # dated by its first coming, not by this one
    # Another shopper's arrival cookie dates nothing: theirs is now.
    other = _Shopper(gate, app, {"emporium_session": "s-3", ARRIVAL_COOKIE: arrival}, method="POST")
    await other.ask()
    assert came[-1] > refused_at


async def test_the_valve_goes_one_at_a_time_while_the_loop_lags_in_the_order_they_came() -> None:
    keeps_up = [False]
    valve = Valve(in_flight=3, backlog=10, responsive=lambda: keeps_up[0])
    gates = {n: asyncio.Event() for n in range(1, 7)}
    started: list[int] = []

    async def work(n: int) -> None:
        started.append(n)
        await gates[n].wait()

    runs = [asyncio.create_task(valve.run(work(n))) for n in range(1, 7)]
    await asyncio.sleep(0)
    assert (started, valve.running, valve.held) == ([1], 1, 6)  # lagging: one in flight, the rest wait
    gates[1].set()
    await asyncio.sleep(0.01)
    assert started == [1, 2]
    keeps_up[0] = True  # the loop keeps up again: the next to finish lets as many in as in_flight allows
    gates[2].set()
    await asyncio.sleep(0.01)
    assert (started, valve.running) == ([1, 2, 3, 4, 5], 3)
    runs[5].cancel()  # a shopper who hangs up while waiting leaves the line
    await asyncio.sleep(0)
    for n in (3, 4, 5):
        gates[n].set()
    await asyncio.gather(*runs[:5])
    assert (started, valve.held) == ([1, 2, 3, 4, 5], 0)


async def test_the_valve_tells_how_long_its_line_takes_to_move_by_its_recent_pace() -> None:
    now = [100.0]
    valve = Valve(in_flight=2, backlog=100, clock=lambda: now[0])
    assert valve.wait_seconds() == 1  # nobody waiting
    valve._running = 1
    for _ in range(50):  # fifty finished in the last five seconds: ten a second
        valve._finish()
        valve._running = 1
    valve._waiting.extend(asyncio.Future() for _ in range(199))
    assert valve.wait_seconds() == 20
    now[0] += 10  # nothing finished for ten seconds: taken as in_flight a second, at most a minute
    assert valve.wait_seconds() == 60
    valve._waiting.clear()
    assert valve.wait_seconds() == 1


async def test_an_early_question_whose_body_comes_in_parts_is_answered_at_once_not_held() -> None:
    from entrypoints.http.pace import PACE_COOKIE, pace_cookie

    settings = Settings(drop_queue_hold_seconds=5)
    bodies: list[bytes] = []

    async def room(scope: Any, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            bodies.append(message["body"])
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    soon = pace_cookie(settings, "drop-1", 4, "s-1", secure=True, same_site="lax")
    parts = [{"type": "http.request", "body": b"a", "more_body": True},
             {"type": "http.request", "body": b"b", "more_body": False}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return parts.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    cookie = f"emporium_session=s-1; {PACE_COOKIE}={soon.value}".encode()
    scope = {**_scope(_app_with(settings), 1, "GET"), "headers": [(b"cookie", cookie)], "state": {}}
    await asyncio.wait_for(pace_middleware(room)(scope, receive, send), timeout=2)  # not held for 3 s
    assert (sent[0]["status"], bodies) == (200, [b"a", b"b"])  # the whole request reached the room
