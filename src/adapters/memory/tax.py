"""The merchant's regional tax rates in memory (seeded, as the migration seeds PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterable

from domain.tax.rates import SEEDED_US_STATES, TaxRate


class MemoryRegionalTaxRates:
    def __init__(self, rates: Iterable[TaxRate] = SEEDED_US_STATES) -> None:
        self._rates = {(r.country, r.region or "", r.tax_class): r for r in rates}

    async def rates(self) -> list[TaxRate]:
        return [self._rates[key] for key in sorted(self._rates)]

    async def put(self, rate: TaxRate) -> None:
        self._rates[(rate.country, rate.region or "", rate.tax_class)] = rate

    async def remove(self, country: str, region: str) -> bool:
        keys = [key for key in self._rates if key[:2] == (country, region)]
        for key in keys:
            del self._rates[key]
        return bool(keys)
