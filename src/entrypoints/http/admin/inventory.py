"""Inventory for the fulfilment team: levels, receive, adjust, transfer, movements, holds in flight."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post, put
from litestar.params import JSONBody, PathParameter, QueryParameter
from msgspec import Meta

from application.inventory import commands as c
from application.inventory.queries import reservations_in_flight, stock_levels, stock_movements
from domain.staff.roles import Role
from entrypoints.http.auth import current_staff, roles, staff_guard
from entrypoints.http.dependencies import Bus

Sku = Annotated[str, PathParameter(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
LocationId = Annotated[str, Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
Units = Annotated[int, Meta(ge=1, le=1_000_000)]
FULFILMENT = roles(Role.FULFILMENT)


class LocationIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    id: LocationId
    name: Annotated[str, Meta(min_length=1, max_length=200)]
    priority: Annotated[int, Meta(ge=0, le=1_000_000)] = 100


class ReceiveIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    location_id: LocationId
    quantity: Units
    reference: Annotated[str, Meta(max_length=100)] = ""


class AdjustIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    location_id: LocationId
    delta: Annotated[int, Meta(ge=-1_000_000, le=1_000_000)]
    reason: Annotated[str, Meta(min_length=1, max_length=500)]


class TransferIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    from_location: LocationId
    to_location: LocationId
    quantity: Units


class PolicyIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    track_inventory: bool = True
    allow_backorder: bool = False
    low_stock_threshold: Annotated[int, Meta(ge=0, le=1_000_000)] = 5
    show_quantity: bool = False


class Level(msgspec.Struct, kw_only=True):
    location_id: str
    on_hand: int  # physically there
    reserved: int  # held for checkouts not yet paid
    committed: int  # paid for, not yet shipped
    available: int


class Levels(msgspec.Struct, kw_only=True):
    sku: str
    levels: list[Level]
    available: int
    track_inventory: bool
    allow_backorder: bool
    low_stock_threshold: int
    show_quantity: bool


class MovementOut(msgspec.Struct, kw_only=True):
    kind: str
    location_id: str
    on_hand_delta: int
    reserved_delta: int
    committed_delta: int
    actor: str
    reason: str
    reference: str
    occurred_at: datetime


class HoldLine(msgspec.Struct, kw_only=True):
    sku: str
    location_id: str
    quantity: int


class Hold(msgspec.Struct, kw_only=True):
    id: str
    reference: str
    expires_at: datetime
    lines: list[HoldLine]


async def levels_of(request: Request[Any, Any, Any], sku: str) -> Levels:
    items, policy = await stock_levels(sku, uow=request.app.state.container.uow_factory())
    return Levels(
        sku=sku,
        levels=[Level(location_id=i.location_id, on_hand=i.on_hand, reserved=i.reserved, committed=i.committed,
                      available=i.available) for i in items],
        available=sum(i.available for i in items), track_inventory=policy.track_inventory,
        allow_backorder=policy.allow_backorder, low_stock_threshold=policy.low_stock_threshold,
        show_quantity=policy.show_quantity,
    )


class InventoryController(Controller):
    path = "/admin/inventory"
    tags = ["admin: inventory"]
    guards = [staff_guard]

    @post("/locations", operation_id="admin_add_location", opt=FULFILMENT, status_code=201)
    async def add_location(self, bus: Bus, data: JSONBody[LocationIn]) -> dict[str, str]:
        await bus.handle(c.AddLocation(id=data.id, name=data.name,
                                                                     priority=data.priority))
        return {"id": data.id}

    @get("/reservations", operation_id="admin_reservations_in_flight", opt=FULFILMENT)
    async def in_flight(
        self, request: Request[Any, Any, Any], limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100
    ) -> list[Hold]:
        holds = await reservations_in_flight(uow=request.app.state.container.uow_factory(), limit=limit)
        return [
            Hold(id=h.id, reference=h.reference, expires_at=h.expires_at,
                 lines=[HoldLine(sku=x.sku, location_id=x.location_id, quantity=x.quantity) for x in h.lines])
            for h in holds
        ]

    @get("/{sku:str}", operation_id="admin_stock_levels", opt=FULFILMENT)
    async def levels(self, request: Request[Any, Any, Any], sku: Sku) -> Levels:
        return await levels_of(request, sku)

    @put("/{sku:str}/policy", operation_id="admin_set_stock_policy", opt=FULFILMENT)
    async def set_policy(self, bus: Bus, request: Request[Any, Any, Any],
                               sku: Sku, data: JSONBody[PolicyIn]) -> Levels:
        await bus.handle(c.SetSkuPolicy(sku=sku, **msgspec.structs.asdict(data)))
        return await levels_of(request, sku)

    @post("/{sku:str}/receive", operation_id="admin_receive_stock", opt=FULFILMENT)
    async def receive(self, bus: Bus, request: Request[Any, Any, Any],
                            sku: Sku, data: JSONBody[ReceiveIn]) -> Levels:
        await bus.handle(
            c.ReceiveStock(sku=sku, location_id=data.location_id, quantity=data.quantity,
                           actor=current_staff(request).id, reference=data.reference)
        )
        return await levels_of(request, sku)

    @post("/{sku:str}/adjust", operation_id="admin_adjust_stock", opt=FULFILMENT)
    async def adjust(self, bus: Bus, request: Request[Any, Any, Any],
                           sku: Sku, data: JSONBody[AdjustIn]) -> Levels:
        await bus.handle(
            c.AdjustStock(sku=sku, location_id=data.location_id, delta=data.delta, reason=data.reason,
                          actor=current_staff(request).id)
        )
        return await levels_of(request, sku)

    @post("/{sku:str}/transfer", operation_id="admin_transfer_stock", opt=FULFILMENT)
    async def transfer(self, bus: Bus, request: Request[Any, Any, Any],
                             sku: Sku, data: JSONBody[TransferIn]) -> Levels:
        await bus.handle(
            c.TransferStock(sku=sku, from_location=data.from_location, to_location=data.to_location,
                            quantity=data.quantity, actor=current_staff(request).id)
        )
        return await levels_of(request, sku)

    @get("/{sku:str}/movements", operation_id="admin_stock_movements", opt=FULFILMENT)
    async def movements(
        self, request: Request[Any, Any, Any], sku: Sku, limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100
    ) -> list[MovementOut]:
        moves = await stock_movements(sku, uow=request.app.state.container.uow_factory(), limit=limit)
        return [
            MovementOut(kind=m.kind.value, location_id=m.location_id, on_hand_delta=m.on_hand_delta,
                        reserved_delta=m.reserved_delta, committed_delta=m.committed_delta, actor=m.actor,
                        reason=m.reason, reference=m.reference, occurred_at=m.occurred_at)
            for m in moves
        ]
