from __future__ import annotations

import copy
from typing import Any

from domain.giftcards.giftcard import GiftCard, GiftCardNotFound
from domain.shared.errors import ConcurrencyConflict, Conflict
from domain.shared.events import Aggregate


class MemoryGiftCards:
    def __init__(self, data: dict[str, Any], seen: list[Aggregate]) -> None:
        self._rows: dict[str, GiftCard] = data.setdefault("gift_cards", {})
        self._seen = seen

    async def add(self, card: GiftCard) -> None:
        if card.code in self._rows:
            raise Conflict("gift card code exists")
        self._rows[card.code] = copy.deepcopy(card)
        self._seen.append(card)

    async def get(self, code: str) -> GiftCard:
        try:
            card = copy.deepcopy(self._rows[code])
        except KeyError:
            raise GiftCardNotFound(f"no gift card {code}") from None
        card.events = []
        self._seen.append(card)
        return card

    async def save(self, card: GiftCard, *, expected_version: int) -> None:
        if self._rows[card.code].version != expected_version:
            raise ConcurrencyConflict(f"gift card {card.code} changed")
        self._rows[card.code] = copy.deepcopy(card)
