"""``serve``'s HTTP protocol stamps when a request's bytes arrived (``entrypoints/http/arrival.py``): a
waiting room places its joins by that moment, not by when the application got round to them."""

from __future__ import annotations

import json
import socket
import time
from typing import Any

from entrypoints.http.arrival import RECEIVED_AT
from entrypoints.settings import Settings
from tests.support.uvicorn_server import served_as_serve_does
from tests.support.waiting import GENEROUS


def test_a_request_is_stamped_when_its_first_bytes_arrive_not_when_the_app_runs() -> None:
    async def echo(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = json.dumps({"received_at": scope.get(RECEIVED_AT), "app_at": time.time()}).encode()
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    with served_as_serve_does(echo, Settings()) as port, socket.create_connection(
            ("127.0.0.1", port), timeout=GENEROUS) as conn:
        sent_at = time.time()
        conn.sendall(b"POST /store/drops/d/queue HTTP/1.1\r\nHost: shop\r\n")  # the start of a join
        time.sleep(0.5)  # the rest comes later: the application can only run after it
        rest_at = time.time()
        conn.sendall(b"Content-Length: 0\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    seen = json.loads(answer.split(b"\r\n\r\n", 1)[1])
    assert sent_at <= seen["received_at"] < rest_at  # stamped as its first bytes were read
    assert seen["app_at"] >= rest_at
    print(f"stamped {seen['received_at'] - sent_at:.3f} s after the first bytes, "
          f"{seen['app_at'] - seen['received_at']:.3f} s before the application ran")
