"""Price lists and their prices mapped by hand; only the prices that changed are written."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, any_, bindparam, delete, insert, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.postgres import tables as t
from adapters.postgres.versions import LoadedVersions
from domain.catalog.pricing import Price, PriceList, Sale, Tier
from domain.shared.errors import ConcurrencyConflict, Conflict, NotFound
from domain.shared.events import Aggregate

_pl, _pr = t.price_lists, t.prices


class PostgresPriceLists:
    def __init__(self, conn: AsyncConnection, seen: list[Aggregate]) -> None:
        self._conn = conn
        self._seen = seen
        self._versions = LoadedVersions("price list")

    async def _write_prices(self, price_list: PriceList) -> None:
        """Upsert the prices that changed and delete the ones removed: never rewrite the whole list."""
        changed = sorted(price_list.changed)
        if not changed:
            return
        removed = [sku for sku in changed if sku not in price_list.prices]
        if removed:
            await self._conn.execute(
                delete(_pr).where(_pr.c.price_list_id == price_list.id, _pr.c.sku.in_(removed))
            )
        rows = [
            {"price_list_id": price_list.id, "sku": p.sku, "amount": p.amount,
             "tiers": [{"min_quantity": x.min_quantity, "amount": x.amount} for x in p.tiers],
             "sale_amount": p.sale.amount if p.sale else None,
             "sale_starts_at": p.sale.starts_at if p.sale else None,
             "sale_ends_at": p.sale.ends_at if p.sale else None}
            for sku in changed if (p := price_list.prices.get(sku)) is not None
        ]
        if rows:
            # executemany: SQLAlchemy batches the rows into multi-row statements itself.
            statement = pg_insert(_pr)
            await self._conn.execute(
                statement.on_conflict_do_update(
                    index_elements=[_pr.c.price_list_id, _pr.c.sku],
                    set_={c: statement.excluded[c] for c in ("amount", "tiers", "sale_amount", "sale_starts_at",
                                                           "sale_ends_at")},
                ),
                rows,
            )
        price_list.changed.clear()

    async def add(self, price_list: PriceList) -> None:
        try:
            async with self._conn.begin_nested():
                await self._conn.execute(
                    insert(_pl).values(id=price_list.id, name=price_list.name, currency=price_list.currency,
                                       channel=price_list.channel, version=price_list.version)
                )
        except IntegrityError:
            raise Conflict(f"a {price_list.currency} price list for this channel exists") from None
        await self._write_prices(price_list)
        self._seen.append(price_list)
        self._versions.remember(price_list.id, price_list.version)

    async def save(self, price_list: PriceList) -> None:
        expected = self._versions.expected(price_list.id)
        if price_list.version == expected:
            return  # unchanged since it was loaded
        result = await self._conn.execute(
            update(_pl).where(_pl.c.id == price_list.id, _pl.c.version == expected)
            .values(name=price_list.name, version=price_list.version)
        )
        if result.rowcount != 1:
            raise ConcurrencyConflict(f"price list {price_list.id} changed since it was read")
        await self._write_prices(price_list)
        self._versions.remember(price_list.id, price_list.version)

    async def _load(self, rows: list[Any], skus: list[str] | None) -> list[PriceList]:
        if not rows:
            return []
        prices: list[Any] = []
        if skus is None or skus:
            query = select(_pr).where(_pr.c.price_list_id.in_([r.id for r in rows]))
            if skus is not None:
                # One array parameter, not an IN list of thousands (a burst of a bulk import's products).
                query = query.where(_pr.c.sku == any_(bindparam("skus", sorted(set(skus)), type_=ARRAY(String))))
            prices = list((await self._conn.execute(query)).all())
        lists = []
        for row in rows:
            entries = {
                p.sku: Price(
                    sku=p.sku, amount=p.amount,
                    tiers=tuple(Tier(min_quantity=x["min_quantity"], amount=x["amount"]) for x in p.tiers),
                    sale=Sale(amount=p.sale_amount, starts_at=p.sale_starts_at, ends_at=p.sale_ends_at)
                    if p.sale_amount is not None else None,
                )
                for p in prices if p.price_list_id == row.id
            }
            lists.append(PriceList(id=row.id, name=row.name, currency=row.currency, channel=row.channel,
                                   prices=entries, version=row.version))
        return lists

    async def get(self, price_list_id: str, *, skus: list[str]) -> PriceList:
        rows = (await self._conn.execute(select(_pl).where(_pl.c.id == price_list_id).with_for_update())).all()
        if not rows:
            raise NotFound(f"price list {price_list_id}")
        [price_list] = await self._load(rows, skus)
        self._seen.append(price_list)
        self._versions.remember(price_list.id, price_list.version)
        return price_list

    async def default_for(self, currency: str) -> PriceList | None:
        rows = (
            await self._conn.execute(
                select(_pl).where(_pl.c.currency == currency, _pl.c.channel.is_(None)).with_for_update()
            )
        ).all()
        lists = await self._load(rows, [])
        self._seen.extend(lists)
        for price_list in lists:
            self._versions.remember(price_list.id, price_list.version)
        return lists[0] if lists else None

    async def for_skus(self, skus: list[str]) -> list[PriceList]:
        return await self._load((await self._conn.execute(select(_pl).order_by(_pl.c.id))).all(), skus)
