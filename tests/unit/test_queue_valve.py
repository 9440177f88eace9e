"""The waiting room's valve (``entrypoints/http/pace.py``): a process takes so many joins and questions at
once, queues so many more in order, and tells the rest to ask again shortly — touching nothing for them."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace
from typing import Any

import pytest

from entrypoints.http.pace import Valve, pace_middleware
from entrypoints.settings import Settings


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
        assert headers["retry-after"] in ("1", "2")
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
