"""Helpers to run the real app (real PostgreSQL/Redis) in tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dependency_injector import providers
from litestar.testing import TestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.memory.clock import SequentialIds
from adapters.postgres.unit_of_work import PostgresUnitOfWork
from adapters.system.clock import SystemClock
from application.staff.handlers import IssueStaffToken, issue_staff_token
from domain.staff.roles import Role
from entrypoints.container import Container
from entrypoints.http.app import create_app
from entrypoints.settings import Settings


def settings_for(database_url: str, redis_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url, "redis_url": redis_url, "log_json": False,
        "broker_namespace": "emporium-test", "environment": "development",  # the development secret is fine
        # Every in-process test client is one address ("testclient"): the per-address pay-later count
        # would add up across the whole run. tests/security/test_unpaid_orders.py checks it.
        "pay_later_per_address_per_day": 1_000_000,
        # In-process tests change stock and read the cart at once: the status a cart shows is read each time.
        "stock_status_ttl_seconds": 0, "live_promotions_ttl_seconds": 0, "catalog_version_ttl_seconds": 0,
        # One address and a few cookie jars make hundreds of storefront changes a module, as fast as they go:
        # the limits on them are off, and tests/contract/test_http_abuse.py turns them on to test them.
        "store_write_rate_per_ip": 0, "store_write_rate_per_session": 0,
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


async def token_for(engine: AsyncEngine, role: Role) -> str:
    issued = await issue_staff_token(
        IssueStaffToken(name="test", role=role), uow=lambda: PostgresUnitOfWork(engine, SequentialIds()),
        clock=SystemClock(), ids=SequentialIds(),
    )
    return issued.token


async def stocked_products(
    client: Any, engine: AsyncEngine, products: list[tuple[str, int, str, int | None]],
    *, policies: dict[str, dict[str, Any]] | None = None, tax_classes: dict[str, str] | None = None,
) -> dict[str, tuple[str, str]]:
    """Active products (name, price, currency, units) with units received in a new location, unique
    to this run (units None: no stock ever received); ``policies`` by name set an inventory policy
    first (``{"track_inventory": False}``: untracked); ``tax_classes`` by name, a tax class other than
    standard. name -> (sku, product id)."""
    merch = {"Authorization": f"Bearer {await token_for(engine, Role.MERCHANDISER)}"}
    staff = {"Authorization": f"Bearer {await token_for(engine, Role.FULFILMENT)}"}
    tag = uuid.uuid4().hex[:6].upper()
    location = f"wh-{tag.lower()}"
    added = client.post("/admin/inventory/locations", headers=staff, json={"id": location, "name": "Main"})
    assert added.status_code == 201, added.text
    made = {}
    for name, price, currency, units in products:
        sku = f"{name.upper()}-{tag}"
        created = client.post("/admin/products", headers=merch, json={
            "name": f"{name} {tag}", "sku": sku, "price": price, "currency": currency, "status": "active",
            **({"tax_class": tax_classes[name]} if name in (tax_classes or {}) else {}),
        })
        assert created.status_code == 201, created.text
        if name in (policies or {}):
            await set_stock_policy(client, engine, sku, **(policies or {})[name])
        if units is not None:
            received = client.post(f"/admin/inventory/{sku}/receive", headers=staff,
                                   json={"location_id": location, "quantity": units})
            assert received.status_code in (200, 201), received.text
        made[name] = (sku, created.json()["id"])
    return made


async def set_stock_policy(client: Any, engine: AsyncEngine, sku: str, **policy: Any) -> None:
    """How inventory treats ``sku`` (``track_inventory``, ``allow_backorder``, ``low_stock_threshold``…)."""
    staff = {"Authorization": f"Bearer {await token_for(engine, Role.FULFILMENT)}"}
    response = client.put(f"/admin/inventory/{sku}/policy", headers=staff, json=policy)
    assert response.status_code == 200, response.text
