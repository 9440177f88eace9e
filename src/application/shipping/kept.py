"""The shipping table checkout reads, kept in each serving process between changes.

Every address step, shipping list, shipping choice and payment asks the table. It changes rarely, so it
is read once and kept while the shared catalog version stands (a change through the staff API bumps it:
at once in the process that made it, within the version's TTL everywhere else), and at most ``max_age``
seconds as a safety net for a bump lost with Redis; with no version to go by (Redis unreachable, or the
unit tests' wiring) it is read every time.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from application.catalog.snapshot import CatalogVersion
from application.shipping.ports import ShippingStore
from domain.shipping.rates import Option, ShippingTable


class KeptShippingRates:
    """The checkout's ``ShippingRates`` port over the merchant's stored table."""

    def __init__(self, store: ShippingStore, version: CatalogVersion | None = None, *, max_age: float = 60.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._store = store
        self._version = version
        self._max_age = max_age
        self._monotonic = monotonic
        self._kept: ShippingTable | None = None
        self._seen: int | None = None
        self._since = 0.0

    async def table(self) -> ShippingTable:
        version = await self._version.current() if self._version is not None else None
        if (self._kept is None or version is None or version != self._seen
                or self._monotonic() - self._since > self._max_age):
            since = self._monotonic()
            table = ShippingTable(tuple(await self._store.zones()), tuple(await self._store.methods()))
            self._kept, self._seen, self._since = table, version, since
        return self._kept

    async def options(
        self, *, country: str, region: str, currency: str, goods: int, weight_grams: int,
    ) -> list[Option]:
        return (await self.table()).options(country=country, region=region, currency=currency, goods=goods,
                                            weight_grams=weight_grams)
