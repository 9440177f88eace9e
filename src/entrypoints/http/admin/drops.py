"""Drops for merchandisers: schedule a sale, list, read, edit it until it opens, cancel it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, get, post, put
from litestar.params import JSONBody, PathParameter
from msgspec import Meta

from application.drops import handlers as d
from application.drops.queue import DropReport
from domain.drops.drop import DropTerms
from domain.staff.roles import Role
from entrypoints.http.auth import roles, staff_guard
from entrypoints.http.dependencies import Bus

MERCHANDISER = roles(Role.MERCHANDISER)
DropId = Annotated[str, PathParameter(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
Sku = Annotated[str, Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]


class DropIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Annotated[str, Meta(min_length=1, max_length=200)]
    skus: Annotated[list[Sku], Meta(min_length=1, max_length=100)]
    opens_at: datetime
    time_zone: Annotated[str, Meta(min_length=1, max_length=64)]
    ends_at: datetime | None = None
    per_customer_limit: Annotated[int, Meta(ge=1, le=10_000)] | None = None
    online_payment_only: bool = False
    waiting_room: bool = True
    admission_rate: Annotated[float, Meta(gt=0, le=100_000)] | None = None

    def to_terms(self) -> DropTerms:
        return DropTerms(
            name=self.name, skus=tuple(self.skus), opens_at=self.opens_at, time_zone=self.time_zone,
            ends_at=self.ends_at, per_customer_limit=self.per_customer_limit,
            online_payment_only=self.online_payment_only, waiting_room=self.waiting_room,
            admission_rate=self.admission_rate,
        )


class DropEditIn(DropIn, forbid_unknown_fields=True, kw_only=True):
    version: Annotated[int, Meta(ge=1)] | None = None  # the version read: a stale edit answers 409


class AdminDropController(Controller):
    path = "/admin/drops"
    tags = ["admin: drops"]
    guards = [staff_guard]

    @post("/", operation_id="admin_schedule_drop", opt=MERCHANDISER, status_code=201,
          summary="Schedule a drop: SKUs, opening (with its time zone), limit, payment, waiting room")
    async def schedule(self, bus: Bus, data: JSONBody[DropIn]) -> dict[str, Any]:
        return await bus.handle(d.ScheduleDrop(terms=data.to_terms()))

    @get("/", operation_id="admin_list_drops", opt=MERCHANDISER, summary="Every drop, the latest opening first")
    async def list_all(self, bus: Bus) -> list[dict[str, Any]]:
        return await bus.handle(d.ListDrops())

    @get("/{drop_id:str}", operation_id="admin_get_drop", opt=MERCHANDISER)
    async def get_one(self, bus: Bus, drop_id: DropId) -> dict[str, Any]:
        return await bus.handle(d.GetDrop(drop_id=drop_id))

    @put("/{drop_id:str}", operation_id="admin_edit_drop", opt=MERCHANDISER,
         summary="New terms, until the drop opens (send the version read: a stale edit answers 409)")
    async def edit(self, bus: Bus, drop_id: DropId, data: JSONBody[DropEditIn]) -> dict[str, Any]:
        return await bus.handle(d.EditDrop(drop_id=drop_id, terms=data.to_terms(), expected_version=data.version))

    @get("/{drop_id:str}/report", operation_id="admin_drop_report", opt=roles(Role.MERCHANDISER, Role.SUPPORT),
         summary="The queue now, and the tickets issued, admitted and used by a checkout")
    async def report(self, bus: Bus, drop_id: DropId) -> dict[str, Any]:
        return await bus.handle(DropReport(drop_id=drop_id))

    @post("/{drop_id:str}/cancel", operation_id="admin_cancel_drop", opt=MERCHANDISER, status_code=200,
          summary="Cancel the drop (until it ends; again: no change)")
    async def cancel(self, bus: Bus, drop_id: DropId) -> dict[str, Any]:
        return await bus.handle(d.CancelDrop(drop_id=drop_id))
