"""Search merchandising for merchandisers: synonym groups, pin/boost/bury rules, query redirects."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, delete, get, post
from litestar.params import JSONBody, PathParameter
from msgspec import Meta

from application.search import merchandising as m
from domain.staff.roles import Role
from entrypoints.http.admin.products import Strict
from entrypoints.http.auth import roles, staff_guard
from entrypoints.http.dependencies import Bus

MERCHANDISER = roles(Role.MERCHANDISER)
Term = Annotated[str, Meta(min_length=1, max_length=100)]
ProductId = Annotated[str, Meta(min_length=1, max_length=64)]
Id = Annotated[str, PathParameter(max_length=64)]


class SynonymGroupIn(Strict):
    terms: Annotated[list[Term], Meta(min_length=2, max_length=20)]


class RuleIn(Strict):
    kind: Annotated[str, Meta(pattern=r"^(pin|boost|bury)$")]
    product_ids: Annotated[list[ProductId], Meta(min_length=1, max_length=50)]
    query: Annotated[str, Meta(min_length=1, max_length=200)] | None = None
    category_id: Annotated[str, Meta(max_length=64)] | None = None


class RedirectIn(Strict):
    query: Annotated[str, Meta(min_length=1, max_length=200)]
    url: Annotated[str, Meta(min_length=1, max_length=500)]


class Created(msgspec.Struct, kw_only=True):
    id: str


class SynonymGroupOut(msgspec.Struct, kw_only=True):
    id: str
    terms: list[str]


class RuleOut(msgspec.Struct, kw_only=True):
    id: str
    kind: str
    product_ids: list[str]
    query: str | None
    category_id: str | None


class RedirectOut(msgspec.Struct, kw_only=True):
    id: str
    query: str
    url: str


class Merchandising(msgspec.Struct, kw_only=True):
    synonym_groups: list[SynonymGroupOut]
    rules: list[RuleOut]
    redirects: list[RedirectOut]


class AdminSearchController(Controller):
    path = "/admin/search"
    tags = ["admin: search"]
    guards = [staff_guard]

    @get("/", operation_id="admin_search_merchandising", opt=MERCHANDISER)
    async def overview(self, request: Request[Any, Any, Any]) -> Merchandising:
        groups, rules, redirects = await m.merchandising_overview(uow=request.app.state.container.uow_factory())
        return Merchandising(
            synonym_groups=[SynonymGroupOut(id=g.id, terms=list(g.terms)) for g in groups],
            rules=[RuleOut(id=r.id, kind=r.kind.value, product_ids=list(r.product_ids), query=r.query,
                           category_id=r.category_id) for r in rules],
            redirects=[RedirectOut(id=r.id, query=r.query, url=r.url) for r in redirects],
        )

    @post("/synonyms", operation_id="admin_add_synonym_group", opt=MERCHANDISER, status_code=201)
    async def add_synonyms(self, bus: Bus, data: JSONBody[SynonymGroupIn]) -> Created:
        return Created(id=await bus.handle(m.AddSynonymGroup(terms=data.terms)))

    @delete("/synonyms/{group_id:str}", operation_id="admin_remove_synonym_group", opt=MERCHANDISER,
            status_code=204)
    async def remove_synonyms(self, bus: Bus, group_id: Id) -> None:
        await bus.handle(m.RemoveSynonymGroup(group_id=group_id))

    @post("/rules", operation_id="admin_add_search_rule", opt=MERCHANDISER, status_code=201)
    async def add_rule(self, bus: Bus, data: JSONBody[RuleIn]) -> Created:
        rule = m.AddRule(kind=data.kind, product_ids=data.product_ids, query=data.query, category_id=data.category_id)
        return Created(id=await bus.handle(rule))

    @delete("/rules/{rule_id:str}", operation_id="admin_remove_search_rule", opt=MERCHANDISER, status_code=204)
    async def remove_rule(self, bus: Bus, rule_id: Id) -> None:
        await bus.handle(m.RemoveRule(rule_id=rule_id))

    @post("/redirects", operation_id="admin_add_search_redirect", opt=MERCHANDISER, status_code=201)
    async def add_redirect(self, bus: Bus, data: JSONBody[RedirectIn]) -> Created:
        return Created(id=await bus.handle(m.AddRedirect(query=data.query,
                                                                                          url=data.url)))

    @delete("/redirects/{redirect_id:str}", operation_id="admin_remove_search_redirect", opt=MERCHANDISER,
            status_code=204)
    async def remove_redirect(self, bus: Bus, redirect_id: Id) -> None:
        await bus.handle(m.RemoveRedirect(redirect_id=redirect_id))
