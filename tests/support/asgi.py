"""The real app (real container, PostgreSQL and Redis) in this process, answering concurrent requests.

Litestar's test clients run each request to its end before the next starts; these httpx clients call
the ASGI app directly, so ``asyncio.gather`` of requests really runs them together, and each client
comes from a client address of its own (what the rate limits key on)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from dependency_injector import providers
from litestar import Litestar

from entrypoints.container import Container
from entrypoints.http.app import create_app
from entrypoints.settings import Settings
from tests.support.http_app import make_container


@dataclass
class Served:
    app: Litestar
    container: Container

    def client(self, ip: str) -> httpx.AsyncClient:
        """A client whose requests come from ``ip``."""
        transport = httpx.ASGITransport(app=self.app, client=(ip, 40000))
        return httpx.AsyncClient(transport=transport, base_url="http://testserver.local", timeout=None)


@asynccontextmanager
async def serving(settings: Settings, **overrides: Any) -> AsyncIterator[Served]:
    """The app on ``settings``; ``overrides`` replace container providers by name (``hasher=…``)."""
    container = make_container(settings)
    for name, value in overrides.items():
        getattr(container, name).override(providers.Object(value))
    app = create_app(container, configure_logs=False)
    async with app.lifespan():
        yield Served(app, container)
