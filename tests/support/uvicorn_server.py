"""An ASGI app served by a real uvicorn in a thread, with the options ``emporium serve`` gives it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from entrypoints.cli.main import uvicorn_options
from entrypoints.settings import Settings
from tests.support.network import free_port
from tests.support.waiting import GENEROUS, wait_until


@contextmanager
def served_as_serve_does(app: Any, settings: Settings) -> Iterator[int]:
    """``app`` on a free loopback port (yielded) under ``serve``'s uvicorn options, one process, no lifespan."""
    options = uvicorn_options(settings)
    options.update(host="127.0.0.1", port=free_port(), log_config=None, lifespan="off")
    options.pop("factory", None)
    options.pop("workers", None)
    server = uvicorn.Server(uvicorn.Config(app, **options))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started, GENEROUS, what="uvicorn to start")
        yield int(options["port"])
    finally:
        server.should_exit = True
        thread.join(GENEROUS)
