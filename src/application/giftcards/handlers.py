"""Gift cards for staff: issue, look up (balance and ledger)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from application.giftcards.ports import GiftCardUnitOfWork
from application.messaging.registry import Command, handler
from application.ports.clock import Clock
from domain.giftcards.giftcard import GiftCard

Uow = Callable[[], GiftCardUnitOfWork]
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


@dataclass(frozen=True, slots=True, kw_only=True)
class IssueGiftCard(Command[dict[str, Any]]):
    amount: int
    currency: str
    actor: str


@dataclass(frozen=True, slots=True, kw_only=True)
class GetGiftCard(Command[dict[str, Any]]):
    code: str


def new_code() -> str:
    """16 characters from 31 symbols (~79 bits): not guessable, readable aloud (no 0/O, 1/I/L)."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(16))
    return "-".join(raw[i:i + 4] for i in range(0, 16, 4))


def card_view(card: GiftCard) -> dict[str, Any]:
    return {
        "code": card.code, "currency": card.currency, "balance": card.balance, "disabled": card.disabled,
        "ledger": [{"kind": e.kind.value, "amount": e.amount, "reference": e.reference, "at": e.at.isoformat()}
                   for e in card.ledger],
    }


@handler
async def issue_gift_card(command: IssueGiftCard, *, uow: Uow, clock: Clock) -> dict[str, Any]:
    card = GiftCard.issue(code=new_code(), amount=command.amount, currency=command.currency, actor=command.actor,
                          now=clock.now())
    async with uow() as tx:
        await tx.gift_cards.add(card)
        await tx.commit()
    return card_view(card)


@handler
async def get_gift_card(query: GetGiftCard, *, uow: Uow) -> dict[str, Any]:
    async with uow() as tx:
        return card_view(await tx.gift_cards.get(query.code.strip().upper()))
