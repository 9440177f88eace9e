"""Gift cards: a balance in one currency, spent as (part of) a payment and refilled by refunds.

Every change is a ledger entry; the balance is the ledger's sum and never goes negative. A
redemption is keyed by the order that spent it, so a retried placement never spends twice, and a
refund back onto the card can never exceed what that order took from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from domain.shared.errors import Conflict, InvalidInput, NotFound
from domain.shared.events import Aggregate, DomainEvent
from domain.shared.money import is_currency


class GiftCardError(InvalidInput):
    pass


class GiftCardNotFound(NotFound):
    pass


class InsufficientBalance(Conflict):
    """The card holds less than asked (perhaps spent a moment ago in another checkout)."""


class EntryKind(Enum):
    ISSUED = "issued"
    REDEEMED = "redeemed"
    REFUNDED = "refunded"


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    kind: EntryKind
    amount: int  # positive: onto the card (issued, refunded); negative: spent (redeemed)
    reference: str  # who: the issuing staff member, or the order
    at: datetime
    key: str = ""  # a refund's own reference: the same refund reported twice is applied once


@dataclass(frozen=True, slots=True, kw_only=True)
class GiftCardChanged(DomainEvent):
    topic = "giftcards.gift_card_changed.v1"
    kind: str
    amount: int
    reference: str
    currency: str
    balance: int


@dataclass(kw_only=True)
class GiftCard(Aggregate):
    code: str
    currency: str
    created_at: datetime
    ledger: list[Entry] = field(default_factory=list)
    disabled: bool = False
    version: int = 0
    events: list[DomainEvent] = field(default_factory=list, repr=False)

    @property
    def id(self) -> str:
        return self.code

    @property
    def balance(self) -> int:
        return sum(e.amount for e in self.ledger)

    @classmethod
    def issue(cls, *, code: str, amount: int, currency: str, actor: str, now: datetime) -> GiftCard:
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            raise GiftCardError("a gift card is issued with a positive amount")
        if not is_currency(currency):
            raise GiftCardError(f"unsupported currency {currency!r}")
        card = cls(code=code, currency=currency, created_at=now)
        card._add(EntryKind.ISSUED, amount, actor, now)
        return card

    def _add(self, kind: EntryKind, amount: int, reference: str, now: datetime, key: str = "") -> None:
        self.ledger.append(Entry(kind=kind, amount=amount, reference=reference, at=now, key=key))
        self.version += 1
        self._record(GiftCardChanged(
            aggregate_id=self.code, aggregate_version=self.version, occurred_at=now, kind=kind.value, amount=amount,
            reference=reference, currency=self.currency, balance=self.balance,
        ))

    def spent_by(self, reference: str) -> int:
        return -sum(e.amount for e in self.ledger if e.kind is EntryKind.REDEEMED and e.reference == reference)

    def refunded_to(self, reference: str) -> int:
        return sum(e.amount for e in self.ledger if e.kind is EntryKind.REFUNDED and e.reference == reference)

    def redeem(self, amount: int, *, reference: str, now: datetime) -> int:
        """Spend ``amount`` for ``reference`` (an order). Once per reference: a repeat returns the first."""
        if self.spent_by(reference):
            return self.spent_by(reference)
        if self.disabled:
            raise GiftCardError("this gift card is disabled")
        if amount <= 0:
            raise GiftCardError("redeem a positive amount")
        if amount > self.balance:
            raise InsufficientBalance(f"the gift card holds {self.balance}, not {amount}")
        self._add(EntryKind.REDEEMED, -amount, reference, now)
        return amount

    def refund(self, amount: int, *, reference: str, key: str, now: datetime) -> None:
        """Put money back that ``reference`` spent; never more than it spent; once per ``key``."""
        if not key:  # issues and redemptions carry no key: an empty one would match them and be ignored
            raise GiftCardError("a refund needs its own reference")
        if any(e.key == key for e in self.ledger):
            return
        if amount <= 0:
            raise GiftCardError("refund a positive amount")
        if self.refunded_to(reference) + amount > self.spent_by(reference):
            raise GiftCardError(f"{reference} spent {self.spent_by(reference)} on this card; cannot refund more")
        self._add(EntryKind.REFUNDED, amount, reference, now, key=key)
