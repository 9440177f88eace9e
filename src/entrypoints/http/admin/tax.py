"""The US states' sales tax the merchant keeps (European VAT comes from the pinned data package)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, delete, get, put
from litestar.params import JSONBody, PathParameter
from msgspec import Meta

from application.tax import commands as c
from domain.staff.roles import Role
from domain.tax.rates import TaxRate
from entrypoints.http.admin.products import Strict
from entrypoints.http.auth import roles, staff_guard
from entrypoints.http.dependencies import Bus

OWNER = roles(Role.OWNER)
READERS = roles(Role.MERCHANDISER)
UsState = Annotated[str, PathParameter(max_length=8)]  # checked by the domain: a US state code


class StateRateIn(Strict):
    basis_points: Annotated[int, Meta(ge=0, le=2500)]  # 725 = 7.25 %
    name: Annotated[str, Meta(max_length=100)] | None = None


class StateRate(msgspec.Struct, kw_only=True):
    state: str
    basis_points: int
    name: str


def _view(rate: TaxRate) -> StateRate:
    return StateRate(state=rate.region or "", basis_points=rate.basis_points, name=rate.name)


class AdminTaxController(Controller):
    path = "/admin/tax"
    tags = ["admin: tax"]
    guards = [staff_guard]

    @get("/us-states", operation_id="admin_list_state_tax_rates", opt=READERS)
    async def list_states(self, bus: Bus) -> list[StateRate]:
        return [_view(r) for r in await bus.handle(c.ListStateTaxRates()) if r.country == "US"]

    # ("state" is a name Litestar keeps for the application's state.)
    @put("/us-states/{us_state:str}", operation_id="admin_set_state_tax_rate", opt=OWNER)
    async def set_state(self, bus: Bus, us_state: UsState, data: JSONBody[StateRateIn]) -> StateRate:
        return _view(await bus.handle(c.SetStateTaxRate(state=us_state, basis_points=data.basis_points,
                                                        name=data.name)))

    @delete("/us-states/{us_state:str}", operation_id="admin_remove_state_tax_rate", opt=OWNER, status_code=204)
    async def remove_state(self, bus: Bus, us_state: UsState) -> None:
        await bus.handle(c.RemoveStateTaxRate(state=us_state))
