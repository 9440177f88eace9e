"""Merchandising rows (synonym groups, rules, redirects) on the write side."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.postgres import tables as t
from domain.search.merchandising import MerchandisingRule, Redirect, RuleKind, SynonymGroup
from domain.shared.errors import Conflict


class PostgresMerchandising:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def synonym_groups(self) -> list[SynonymGroup]:
        rows = (await self._conn.execute(select(t.search_synonym_groups).order_by(t.search_synonym_groups.c.id)))
        return [SynonymGroup(id=r.id, terms=tuple(r.terms)) for r in rows]

    async def add_synonym_group(self, group: SynonymGroup) -> None:
        await self._conn.execute(insert(t.search_synonym_groups).values(id=group.id, terms=list(group.terms)))

    async def remove_synonym_group(self, group_id: str) -> bool:
        table = t.search_synonym_groups
        result = await self._conn.execute(delete(table).where(table.c.id == group_id).returning(table.c.id))
        return result.first() is not None

    async def rules(self) -> list[MerchandisingRule]:
        rows = await self._conn.execute(select(t.search_rules).order_by(t.search_rules.c.id))
        return [
            MerchandisingRule(id=r.id, kind=RuleKind(r.kind), product_ids=tuple(r.product_ids), query=r.query,
                              category_id=r.category_id)
            for r in rows
        ]

    async def add_rule(self, rule: MerchandisingRule) -> None:
        await self._conn.execute(
            insert(t.search_rules).values(id=rule.id, kind=rule.kind.value, query=rule.query,
                                          category_id=rule.category_id, product_ids=list(rule.product_ids))
        )

    async def remove_rule(self, rule_id: str) -> bool:
        table = t.search_rules
        result = await self._conn.execute(delete(table).where(table.c.id == rule_id).returning(table.c.id))
        return result.first() is not None

    async def redirects(self) -> list[Redirect]:
        rows = await self._conn.execute(select(t.search_redirects).order_by(t.search_redirects.c.query))
        return [Redirect(id=r.id, query=r.query, url=r.url) for r in rows]

    async def add_redirect(self, redirect: Redirect) -> None:
        result = await self._conn.execute(
            insert(t.search_redirects).values(id=redirect.id, query=redirect.query, url=redirect.url)
            .on_conflict_do_nothing().returning(t.search_redirects.c.id)
        )
        if result.first() is None:
            raise Conflict(f"a redirect for {redirect.query!r} exists")

    async def remove_redirect(self, redirect_id: str) -> bool:
        table = t.search_redirects
        result = await self._conn.execute(delete(table).where(table.c.id == redirect_id).returning(table.c.id))
        return result.first() is not None
