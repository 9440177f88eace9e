"""The inventory admin API on the real stack: roles, problem+json, nothing written on bad input."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from adapters.postgres import tables as t
from domain.staff.roles import Role
from tests.support.http_app import client_for, settings_for, token_for


@pytest.fixture(scope="module")
def client(database_url: str, redis_url: str):
    with client_for(settings_for(database_url, redis_url)) as c:
        yield c


async def movements(engine, sku: str) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(
            select(func.count()).select_from(t.stock_movements).where(t.stock_movements.c.sku == sku)
        ) or 0)


async def test_fulfilment_receives_adjusts_and_transfers_stock(client, engine, unique) -> None:
    auth = {"Authorization": f"Bearer {await token_for(engine, Role.FULFILMENT)}"}
    sku, a, b = f"INV-{unique}", f"a-{unique}", f"b-{unique}"
    for location, priority in ((a, 1), (b, 2)):
        created = client.post("/admin/inventory/locations", json={"id": location, "name": location,
                                                                  "priority": priority}, headers=auth)
        assert created.status_code == 201, created.text
    received = client.post(f"/admin/inventory/{sku}/receive", json={"location_id": a, "quantity": 10}, headers=auth)
    assert received.status_code == 201, received.text
    assert received.json()["available"] == 10
    adjusted = client.post(f"/admin/inventory/{sku}/adjust",
                           json={"location_id": a, "delta": -2, "reason": "damaged in transit"}, headers=auth)
    assert adjusted.json()["available"] == 8
    moved = client.post(f"/admin/inventory/{sku}/transfer",
                        json={"from_location": a, "to_location": b, "quantity": 3}, headers=auth)
    assert [(lv["location_id"], lv["on_hand"]) for lv in moved.json()["levels"]] == [(a, 5), (b, 3)]
    history = client.get(f"/admin/inventory/{sku}/movements", headers=auth).json()
    assert [m["kind"] for m in history] == ["transferred_in", "transferred_out", "adjusted", "received"]
    assert history[2]["reason"] == "damaged in transit"
    policy = client.put(f"/admin/inventory/{sku}/policy", json={"low_stock_threshold": 10, "show_quantity": True},
                        headers=auth)
    assert policy.status_code == 200
    assert policy.json()["low_stock_threshold"] == 10
    assert client.get("/admin/inventory/reservations", headers=auth).status_code == 200


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("receive", {"location_id": "nowhere", "quantity": 1}, 404),
        ("receive", {"location_id": "LOC", "quantity": 0}, 400),
        ("receive", {"location_id": "LOC", "quantity": 1, "price": 5}, 400),
        ("adjust", {"location_id": "LOC", "delta": -1, "reason": ""}, 400),
        ("adjust", {"location_id": "LOC", "delta": -50, "reason": "count"}, 409),
        ("transfer", {"from_location": "LOC", "to_location": "LOC", "quantity": 1}, 422),
    ],
)
async def test_bad_input_is_a_problem_and_writes_nothing(client, engine, unique, path, body, status) -> None:
    auth = {"Authorization": f"Bearer {await token_for(engine, Role.FULFILMENT)}"}
    sku, location = f"BAD-{unique}", f"loc-{unique}"
    client.post("/admin/inventory/locations", json={"id": location, "name": "x"}, headers=auth)
    client.post(f"/admin/inventory/{sku}/receive", json={"location_id": location, "quantity": 5}, headers=auth)
    before = await movements(engine, sku)
    payload = {k: (location if v == "LOC" else v) for k, v in body.items()}
    response = client.post(f"/admin/inventory/{sku}/{path}", json=payload, headers=auth)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert await movements(engine, sku) == before


async def test_only_fulfilment_and_owner_may_touch_stock(client, engine, unique) -> None:
    merchandiser = {"Authorization": f"Bearer {await token_for(engine, Role.MERCHANDISER)}"}
    assert client.get(f"/admin/inventory/X-{unique}", headers=merchandiser).status_code == 403
    assert client.get(f"/admin/inventory/X-{unique}").status_code == 401


def test_storefront_availability_is_cacheable_and_unknown_skus_say_so(client, unique) -> None:
    response = client.get(f"/store/availability?sku=NONE-{unique}")
    assert response.status_code == 200
    assert response.json() == [{"sku": f"NONE-{unique}", "status": "unknown", "quantity": None}]
    assert "s-maxage" in response.headers["cache-control"]
    assert client.get("/store/availability").status_code == 400


async def test_bundle_availability_is_the_minimum_over_its_components(client, engine, unique) -> None:
    from adapters.memory.inventory import MemoryStockGate
    from adapters.postgres.unit_of_work import PostgresUnitOfWork
    from adapters.system.clock import SystemClock, UuidIdGenerator
    from application.catalog import commands as cat
    from application.inventory import commands as inv
    from application.inventory.handlers import project_availability
    from domain.inventory.stock import StockChanged
    from tests.support.bus import build_bus

    ids = UuidIdGenerator()
    uow = lambda: PostgresUnitOfWork(engine, ids)  # noqa: E731
    bus = build_bus(uow=uow, clock=SystemClock(), ids=ids, gate=MemoryStockGate())
    shoe, sock, kit = f"BS-{unique}", f"BK-{unique}", f"BKIT-{unique}"
    await bus.handle(cat.CreateProduct(name=f"Shoe {unique}", sku=shoe, price_amount=100, currency="EUR"))
    await bus.handle(cat.CreateProduct(name=f"Sock {unique}", sku=sock, price_amount=10, currency="EUR"))
    await bus.handle(cat.CreateProduct(name=f"Kit {unique}", status="active",
                                       variants=[cat.VariantSpec(sku=kit, components=[(shoe, 1), (sock, 2)])]))
    await bus.handle(inv.AddLocation(id=f"w-{unique}", name="w"))
    await bus.handle(inv.ReceiveStock(sku=shoe, location_id=f"w-{unique}", quantity=50, actor="t"))
    await bus.handle(inv.SetSkuPolicy(sku=sock, low_stock_threshold=3))
    await bus.handle(inv.ReceiveStock(sku=sock, location_id=f"w-{unique}", quantity=2, actor="t"))
    for sku in (shoe, sock):
        async with uow() as tx:
            await project_availability(StockChanged(aggregate_id=sku, aggregate_version=1,
                                                    occurred_at=SystemClock().now(), sku=sku, location_id="",
                                                    on_hand=0, reserved=0, kind="received"), tx)
            await tx.commit()
    response = client.get(f"/store/availability?sku={kit}&sku={shoe}")
    assert [(a["sku"], a["status"]) for a in response.json()] == [(kit, "low"), (shoe, "in_stock")]
