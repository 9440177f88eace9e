"""The tax rates a merchant keeps: US states' sales tax, read at checkout and edited by staff."""

from __future__ import annotations

from typing import Protocol

from domain.tax.rates import TaxRate


class RegionalTaxRates(Protocol):
    """Sales-tax rates per US state, kept by the merchant (seeded with the states the shop started with)."""

    async def rates(self) -> list[TaxRate]:
        """Every rate kept, ordered by country, region and tax class."""
        ...

    async def put(self, rate: TaxRate) -> None:
        """Keep ``rate`` for its country, region and class, replacing the one kept there."""
        ...

    async def remove(self, country: str, region: str) -> bool:
        """Forget every rate of the region; False when none was kept."""
        ...
