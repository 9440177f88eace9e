"""The API app, dying once on purpose between "order committed" and "response sent".

``uvicorn --factory tests.support.crashing_api:create_app``. While the file EMPORIUM_TEST_CRASH_FLAG
exists, the next ``place`` that answers 201 (its order committed, its response not yet stored as the
key's answer nor sent) removes the file and kills its process (``os._exit``: no cleanup, no answer).
"""

from __future__ import annotations

import os

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from entrypoints.http.app import create_app as create_real_app


def create_app() -> ASGIApp:
    app = create_real_app()
    flag = os.environ["EMPORIUM_TEST_CRASH_FLAG"]

    async def crashing(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].endswith("/place"):
            await app(scope, receive, send)
            return

        async def answer_or_die(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 201:
                _die_once(flag)
            await send(message)

        await app(scope, receive, answer_or_die)

    return crashing


def _die_once(flag: str) -> None:
    if os.path.exists(flag):
        os.unlink(flag)
        os._exit(137)
