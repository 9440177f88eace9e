from __future__ import annotations

import copy
from typing import Any

from adapters.memory.versions import MemoryVersions
from domain.giftcards.giftcard import GiftCard, GiftCardNotFound
from domain.shared.errors import Conflict
from domain.shared.events import Aggregate


class MemoryGiftCards:
    def __init__(self, data: dict[str, Any], seen: list[Aggregate], versions: MemoryVersions) -> None:
        self._rows: dict[str, GiftCard] = data.setdefault("gift_cards", {})
        self._seen = seen
        self._versions = versions

    async def add(self, card: GiftCard) -> None:
        if card.code in self._rows:
            raise Conflict("gift card code exists")
        self._rows[card.code] = copy.deepcopy(card)
        self._seen.append(card)
        self._versions.remember("gift card", card.code, card.version)

    async def get(self, code: str) -> GiftCard:
        try:
            card = copy.deepcopy(self._rows[code])
        except KeyError:
            raise GiftCardNotFound(f"no gift card {code}") from None
        card.events = []
        self._seen.append(card)
        self._versions.remember("gift card", card.code, card.version)
        return card

    async def save(self, card: GiftCard) -> None:
        stored = self._versions.database.extra.get("gift_cards", {}).get(card.code)
        if not self._versions.changed("gift card", card.code, card.version,
                                      stored=None if stored is None else stored.version):
            return  # unchanged since it was loaded
        self._rows[card.code] = copy.deepcopy(card)
        self._versions.saved("gift card", card.code, card.version)
