"""The catalog a cart needs, kept in this process between catalog changes.

Every cart read, checkout step and payment prices the cart: the products of its SKUs (status,
variants, bundle components, weights) and the price lists holding their prices. Those change
rarely and are read on every request, so a serving process keeps what it has read, keyed by the
cart's SKUs, under a **catalog version**: a counter every process shares (Redis), bumped after each
commit that saved a product or a price list (``CatalogSnapshot.concerns``). A lookup reads the
version first (one Redis round trip, no PostgreSQL); a new version drops everything kept, and so
does age (``max_age`` seconds, the bound on staleness should a bump be lost while Redis is away).
Prices still resolve at the moment asked (sale windows, tiers), from the kept lists.

Without a version source (the unit tests' wiring) nothing is kept: every lookup reads the database.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from application.catalog.ports import ProductReads
from domain.catalog.pricing import PriceList
from domain.catalog.product import Product

# Commits that change what a lookup answers (the outbox topics of products and price lists), and the
# live promotions the promotion engine and the live drops the checkout keeps under the same version.
CATALOG_TOPICS = ("catalog.product_saved.", "catalog.price_list_changed.", "promotions.", "drops.")


class CatalogVersion(Protocol):
    async def current(self) -> int | None:
        """The shared version now; ``None`` when it cannot be known (keep nothing, read the database)."""
        ...

    async def bump(self) -> None: ...


class KeptVersion:
    """The shared catalog version as this process last read it, read again at most every ``ttl``
    seconds (every lookup of every request would otherwise cost a Redis round trip). A bump made by
    this process forgets it at once: a change is seen at once where it was made, within ``ttl``
    everywhere else. An unknown version (Redis away) is never kept. ``ttl`` 0: read on every call."""

    def __init__(self, version: CatalogVersion, *, ttl: float,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._version = version
        self._ttl = ttl
        self._monotonic = monotonic
        self._kept: tuple[int, float] | None = None  # (version, read again after)

    async def current(self) -> int | None:
        kept = self._kept
        if kept is not None and self._monotonic() < kept[1]:
            return kept[0]
        version = await self._version.current()
        self._kept = (version, self._monotonic() + self._ttl) if version is not None and self._ttl > 0 else None
        return version

    async def bump(self) -> None:
        self._kept = None
        await self._version.bump()
        self._kept = None  # a read that raced the bump kept the old version: forget it too


@dataclass(frozen=True, slots=True)
class CatalogSlice:
    """The products selling some SKUs, and every price list holding their prices."""

    products: tuple[Product, ...]
    price_lists: tuple[PriceList, ...]


class CatalogReads(Protocol):
    async def lookup(self, skus: list[str]) -> CatalogSlice: ...


class CatalogSnapshot:
    def __init__(self, uow: Callable[[], ProductReads], version: CatalogVersion | None = None, *,
                 max_entries: int = 10_000, max_age: float = 60.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._uow = uow
        self._version = version
        self._max_entries = max_entries
        self._max_age = max_age
        self._monotonic = monotonic
        self._seen: int | None = None
        self._since = monotonic()
        self._kept: OrderedDict[tuple[str, ...], CatalogSlice] = OrderedDict()

    @staticmethod
    def concerns(topics: Iterable[str]) -> bool:
        """Whether a commit with these events changes what a lookup answers."""
        return any(topic.startswith(CATALOG_TOPICS) for topic in topics)

    async def lookup(self, skus: list[str]) -> CatalogSlice:
        key = tuple(sorted(set(skus)))
        version = await self._version.current() if self._version is not None else None
        if version is None or version != self._seen or self._monotonic() - self._since > self._max_age:
            self._kept.clear()
            self._seen = version
            self._since = self._monotonic()
        elif (kept := self._kept.get(key)) is not None:
            self._kept.move_to_end(key)
            return kept
        async with self._uow() as tx:
            price_lists = await tx.price_lists.for_skus(list(key))
            products = await tx.products.get_many(await tx.products.product_ids_for_skus(list(key)))
        found = CatalogSlice(products=tuple(products), price_lists=tuple(price_lists))
        if version is not None:
            self._kept[key] = found
            if len(self._kept) > self._max_entries:
                self._kept.popitem(last=False)
        return found
