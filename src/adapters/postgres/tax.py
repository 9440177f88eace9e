"""The sales-tax rates the merchant keeps per US state, in ``tax_rates`` (short transactions of their own)."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.postgres import tables as t
from domain.tax.rates import TaxRate

_r = t.tax_rates


class PostgresRegionalTaxRates:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def rates(self) -> list[TaxRate]:
        async with self._engine.connect() as conn:
            rows = (await conn.execute(select(_r).order_by(_r.c.country, _r.c.region, _r.c.tax_class))).all()
        return [
            TaxRate(country=row.country, region=row.region, tax_class=row.tax_class, basis_points=row.basis_points,
                    name=row.name, included_in_prices=False)
            for row in rows
        ]

    async def put(self, rate: TaxRate) -> None:
        statement = insert(_r).values(country=rate.country, region=rate.region or "", tax_class=rate.tax_class,
                                      basis_points=rate.basis_points, name=rate.name)
        async with self._engine.begin() as conn:
            await conn.execute(statement.on_conflict_do_update(
                index_elements=[_r.c.country, _r.c.region, _r.c.tax_class],
                set_={"basis_points": statement.excluded.basis_points, "name": statement.excluded.name,
                      "updated_at": func.now()},
            ))

    async def remove(self, country: str, region: str) -> bool:
        async with self._engine.begin() as conn:
            removed = await conn.execute(delete(_r).where(_r.c.country == country, _r.c.region == region)
                                         .returning(_r.c.tax_class))
            return bool(removed.all())
