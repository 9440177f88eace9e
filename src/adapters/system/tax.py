"""The built-in tax adapter: European VAT from the pinned data package (``vat_rates.py``), the US states'
sales tax from the merchant's table (``RegionalTaxRates``), one tax line per item."""

from __future__ import annotations

from collections.abc import Sequence

from adapters.system.vat_rates import european_vat_rates
from application.checkout.ports import Taxable
from application.tax.ports import RegionalTaxRates
from domain.orders.order import TaxLine
from domain.tax.rates import RateTable, TaxDestination, TaxRate, UntaxedDestination, tax_in, tax_on


class RateTableTax:
    """``rates``: the built-in rates (every EU member state, the UK, Norway, Switzerland by default);
    ``regional``: the merchant's table, asked only for a destination the built-in rates do not cover."""

    def __init__(self, rates: Sequence[TaxRate] | None = None, *, regional: RegionalTaxRates | None = None) -> None:
        self._rates = tuple(european_vat_rates() if rates is None else rates)
        self._builtin = RateTable(self._rates)
        self._regional = regional

    async def _table(self, country: str, region: str | None) -> RateTable:
        if self._regional is None or self._builtin.destination(country=country, region=region) is not None:
            return self._builtin
        return RateTable([*self._rates, *await self._regional.rates()])

    async def destination(self, *, country: str, region: str) -> TaxDestination:
        found = (await self._table(country, region or None)).destination(country=country, region=region or None)
        if found is None:
            raise UntaxedDestination(country, region)
        return found

    async def calculate(
        self, items: list[Taxable], *, country: str, region: str, prices_include_tax: bool,
    ) -> list[TaxLine]:
        table = await self._table(country, region or None)
        lines = []
        for item in items:
            rate = table.rate(country=country, region=region or None, tax_class=item.tax_class)
            if rate is None:
                raise UntaxedDestination(country, region)
            amount = tax_in(item.amount, rate) if prices_include_tax else tax_on(item.amount, rate)
            lines.append(TaxLine(name=rate.name, basis_points=rate.basis_points, amount=amount,
                                 applies_to=item.applies_to))
        return lines
