"""The built-in tax adapter: rates from ``domain.tax.rates``' table, one tax line per item."""

from __future__ import annotations

from application.checkout.ports import Taxable
from domain.orders.order import TaxLine
from domain.shipping.rates import UnsupportedDestination
from domain.tax.rates import RateTable, tax_in, tax_on


class RateTableTax:
    def __init__(self, table: RateTable | None = None) -> None:
        self._table = table or RateTable()

    async def calculate(
        self, items: list[Taxable], *, country: str, region: str, prices_include_tax: bool,
    ) -> list[TaxLine]:
        lines = []
        for item in items:
            rate = self._table.rate(country=country, region=region or None, tax_class=item.tax_class)
            if rate is None:
                raise UnsupportedDestination(f"no tax rate is known for {country}{'-' + region if region else ''}")
            amount = tax_in(item.amount, rate) if prices_include_tax else tax_on(item.amount, rate)
            lines.append(TaxLine(name=rate.name, basis_points=rate.basis_points, amount=amount,
                                 applies_to=item.applies_to))
        return lines
