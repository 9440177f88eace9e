from __future__ import annotations

from typing import Protocol

from application.ports.unit_of_work import UnitOfWork
from domain.giftcards.giftcard import GiftCard


class GiftCardRepository(Protocol):
    async def add(self, card: GiftCard) -> None: ...

    async def get(self, code: str) -> GiftCard:
        """The card, locked for this transaction; ``GiftCardNotFound`` otherwise."""
        ...

    async def save(self, card: GiftCard) -> None: ...


class GiftCardUnitOfWork(UnitOfWork, Protocol):
    gift_cards: GiftCardRepository
