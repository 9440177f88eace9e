"""Helpers to run the real app (real PostgreSQL/Redis) in tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from dependency_injector import providers
from litestar.testing import TestClient

from entrypoints.container import Container
from entrypoints.http.app import create_app
from entrypoints.settings import Settings


def settings_for(database_url: str, redis_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url, "redis_url": redis_url, "log_json": False,
        "broker_namespace": "emporium-test",
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def make_container(settings: Settings) -> Container:
    container = Container()
    container.settings.override(providers.Object(settings))
    return container


@contextmanager
def client_for(settings: Settings, base_url: str = "http://testserver.local") -> Iterator[TestClient]:
    container = make_container(settings)
    with TestClient(create_app(container, configure_logs=False), base_url=base_url) as client:
        client.app.state.container = container
        yield client
