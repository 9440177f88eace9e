"""Merchandising use cases: synonym groups (pushed to the index), rules and redirects."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from application.messaging.registry import Command, handler
from application.ports.clock import IdGenerator
from application.search.ports import MerchandisingUnitOfWork, SearchIndex
from domain.search.merchandising import MerchandisingRule, Redirect, SynonymGroup
from domain.shared.errors import NotFound

Uow = Callable[[], MerchandisingUnitOfWork]


@dataclass(frozen=True, slots=True, kw_only=True)
class AddSynonymGroup(Command[str]):
    terms: list[str]


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoveSynonymGroup(Command[None]):
    group_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AddRule(Command[str]):
    kind: str
    product_ids: list[str]
    query: str | None = None
    category_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoveRule(Command[None]):
    rule_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AddRedirect(Command[str]):
    query: str
    url: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoveRedirect(Command[None]):
    redirect_id: str


async def sync_synonyms(*, uow: Uow, index: SearchIndex) -> int:
    """Give the index the stored groups (after a change, or to a fresh index)."""
    async with uow() as tx:
        groups = await tx.merchandising.synonym_groups()
    await index.set_synonyms(groups)
    return len(groups)


@handler
async def add_synonym_group(cmd: AddSynonymGroup, *, uow: Uow, ids: IdGenerator, search_index: SearchIndex) -> str:
    group = SynonymGroup.create(id=ids.new_id(), terms=cmd.terms)
    async with uow() as tx:
        await tx.merchandising.add_synonym_group(group)
        await tx.commit()
    await sync_synonyms(uow=uow, index=search_index)
    return group.id


@handler
async def remove_synonym_group(cmd: RemoveSynonymGroup, *, uow: Uow, search_index: SearchIndex) -> None:
    async with uow() as tx:
        if not await tx.merchandising.remove_synonym_group(cmd.group_id):
            raise NotFound(f"no synonym group {cmd.group_id}")
        await tx.commit()
    await sync_synonyms(uow=uow, index=search_index)


@handler
async def add_rule(cmd: AddRule, *, uow: Uow, ids: IdGenerator) -> str:
    rule = MerchandisingRule.create(id=ids.new_id(), kind=cmd.kind, product_ids=cmd.product_ids, query=cmd.query,
                                    category_id=cmd.category_id)
    async with uow() as tx:
        await tx.merchandising.add_rule(rule)
        await tx.commit()
    return rule.id


@handler
async def remove_rule(cmd: RemoveRule, *, uow: Uow) -> None:
    async with uow() as tx:
        if not await tx.merchandising.remove_rule(cmd.rule_id):
            raise NotFound(f"no rule {cmd.rule_id}")
        await tx.commit()


@handler
async def add_redirect(cmd: AddRedirect, *, uow: Uow, ids: IdGenerator) -> str:
    redirect = Redirect.create(id=ids.new_id(), query=cmd.query, url=cmd.url)
    async with uow() as tx:
        await tx.merchandising.add_redirect(redirect)
        await tx.commit()
    return redirect.id


@handler
async def remove_redirect(cmd: RemoveRedirect, *, uow: Uow) -> None:
    async with uow() as tx:
        if not await tx.merchandising.remove_redirect(cmd.redirect_id):
            raise NotFound(f"no redirect {cmd.redirect_id}")
        await tx.commit()


async def merchandising_overview(
    *, uow: Uow
) -> tuple[list[SynonymGroup], list[MerchandisingRule], list[Redirect]]:
    async with uow() as tx:
        m = tx.merchandising
        return await m.synonym_groups(), await m.rules(), await m.redirects()
