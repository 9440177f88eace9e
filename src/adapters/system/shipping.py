"""A fixed shipping table (``domain.shipping.rates``' seed unless one is given): for a test that brings its
own table. The shop reads the merchant's stored table through ``KeptShippingRates`` (application/shipping)."""

from __future__ import annotations

from domain.shipping.rates import Option, ShippingTable


class TableShippingRates:
    def __init__(self, table: ShippingTable | None = None) -> None:
        self._table = table or ShippingTable()

    async def options(
        self, *, country: str, region: str, currency: str, goods: int, weight_grams: int,
    ) -> list[Option]:
        return self._table.options(country=country, region=region, currency=currency, goods=goods,
                                   weight_grams=weight_grams)
