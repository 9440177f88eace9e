"""Gift cards: the ledger as JSONB, the balance as a column with CHECK (balance >= 0)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.postgres import tables as t
from adapters.postgres.versions import LoadedVersions
from application.messaging.codec import aggregate_from_builtins, aggregate_to_builtins
from domain.giftcards.giftcard import GiftCard, GiftCardNotFound
from domain.shared.errors import ConcurrencyConflict
from domain.shared.events import Aggregate

_g = t.gift_cards


class PostgresGiftCards:
    def __init__(self, conn: AsyncConnection, seen: list[Aggregate]) -> None:
        self._conn = conn
        self._seen = seen
        self._versions = LoadedVersions("gift card")

    @staticmethod
    def _row(card: GiftCard) -> dict[str, Any]:
        return {"currency": card.currency, "balance": card.balance, "version": card.version,
                "data": aggregate_to_builtins(card)}

    async def add(self, card: GiftCard) -> None:
        await self._conn.execute(insert(_g).values(code=card.code, **self._row(card)))
        self._seen.append(card)
        self._versions.remember(card.code, card.version)

    async def get(self, code: str) -> GiftCard:
        row = (await self._conn.execute(select(_g.c.data).where(_g.c.code == code).with_for_update())).first()
        if row is None:
            raise GiftCardNotFound(f"no gift card {code}")
        card = aggregate_from_builtins(row.data, GiftCard)
        self._seen.append(card)
        self._versions.remember(card.code, card.version)
        return card

    async def save(self, card: GiftCard) -> None:
        expected = self._versions.expected(card.code)
        if card.version == expected:
            return  # unchanged since it was loaded
        result = await self._conn.execute(
            update(_g).where(_g.c.code == card.code, _g.c.version == expected).values(**self._row(card))
        )
        if result.rowcount != 1:
            raise ConcurrencyConflict(f"gift card {card.code} changed")
        self._versions.remember(card.code, card.version)
