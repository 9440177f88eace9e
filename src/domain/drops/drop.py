"""A drop: a sale the merchant schedules for some SKUs, opening at a set moment (issue 22).

Its terms say what sells (the SKUs), when (the opening, in the time zone the shop shows it in, and an
optional end), how much one customer may buy of each SKU, whether only an online payment may buy it (no
pay-later order holding units a buyer never pays for), and whether buyers pass a waiting room first, at
what admission rate (``None``: the shop's measured capacity). The terms can be edited until the drop
opens; a drop can be cancelled until it ends. What the storefront shows of it is its ``phase``.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from domain.shared.errors import Conflict, InvalidInput, NotFound
from domain.shared.events import Aggregate, DomainEvent


class DropNotFound(NotFound):
    """No drop with that id."""


class DropPhase(Enum):
    UPCOMING = "upcoming"
    OPEN = "open"
    SOLD_OUT = "sold_out"
    ENDED = "ended"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True, kw_only=True)
class DropTerms:
    name: str
    skus: tuple[str, ...]
    opens_at: datetime
    time_zone: str  # an IANA name: where the shop shows the opening
    ends_at: datetime | None = None
    per_customer_limit: int | None = None  # units of each SKU one customer may buy; None: no limit
    online_payment_only: bool = False
    waiting_room: bool = True
    admission_rate: float | None = None  # shoppers a second; None: the shop's measured capacity


@dataclass(frozen=True, slots=True, kw_only=True)
class DropScheduled(DomainEvent):
    topic = "drops.drop_scheduled.v1"
    skus: tuple[str, ...]
    opens_at: datetime
    ends_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class DropEdited(DomainEvent):
    topic = "drops.drop_edited.v1"
    skus: tuple[str, ...]
    opens_at: datetime
    ends_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class DropCancelled(DomainEvent):
    topic = "drops.drop_cancelled.v1"
    skus: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class DropSoldOut(DomainEvent):
    topic = "drops.drop_sold_out.v1"
    skus: tuple[str, ...]


def check_terms(terms: DropTerms, *, now: datetime) -> None:
    if not terms.name.strip():
        raise InvalidInput("a drop needs a name")
    if not terms.skus:
        raise InvalidInput("a drop sells at least one SKU")
    if len(set(terms.skus)) != len(terms.skus):
        raise InvalidInput("a drop names each SKU once")
    for moment in (terms.opens_at, terms.ends_at):
        if moment is not None and moment.utcoffset() is None:
            raise InvalidInput("a drop's opening and end are timezone-aware moments")
    if terms.opens_at <= now:
        raise InvalidInput("a drop opens in the future")
    if terms.ends_at is not None and terms.ends_at <= terms.opens_at:
        raise InvalidInput("a drop ends after it opens")
    if terms.per_customer_limit is not None and terms.per_customer_limit < 1:
        raise InvalidInput("a per-customer limit is at least 1 unit")
    if terms.admission_rate is not None and not terms.admission_rate > 0:
        raise InvalidInput("an admission rate is a positive number of shoppers a second")
    try:
        zoneinfo.ZoneInfo(terms.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown time zone {terms.time_zone!r}") from None


class Drop(Aggregate):
    def __init__(self, *, id: str, terms: DropTerms, cancelled_at: datetime | None = None,
                 sold_out_at: datetime | None = None, version: int = 0) -> None:
        self.id = id
        self.terms = terms
        self.cancelled_at = cancelled_at
        self.sold_out_at = sold_out_at
        self.version = version
        self.events = []

    @classmethod
    def schedule(cls, *, id: str, terms: DropTerms, now: datetime) -> Drop:
        check_terms(terms, now=now)
        drop = cls(id=id, terms=terms)
        drop._record(DropScheduled(aggregate_id=id, aggregate_version=drop._bump(), occurred_at=now,
                                   skus=terms.skus, opens_at=terms.opens_at, ends_at=terms.ends_at))
        return drop

    def phase(self, now: datetime) -> DropPhase:
        if self.cancelled_at is not None:
            return DropPhase.CANCELLED
        if now < self.terms.opens_at:
            return DropPhase.UPCOMING
        if self.terms.ends_at is not None and now >= self.terms.ends_at:
            return DropPhase.ENDED
        if self.sold_out_at is not None:
            return DropPhase.SOLD_OUT
        return DropPhase.OPEN

    def opening_local(self) -> datetime:
        """The opening as the shop shows it: in the drop's time zone."""
        return self.terms.opens_at.astimezone(zoneinfo.ZoneInfo(self.terms.time_zone))

    def edit(self, terms: DropTerms, *, now: datetime) -> None:
        """New terms, until the drop opens."""
        if self.phase(now) is not DropPhase.UPCOMING:
            raise Conflict(f"drop {self.id} is {self.phase(now).value}: only an upcoming drop can be edited")
        check_terms(terms, now=now)
        if terms == self.terms:
            return
        self.terms = terms
        self._record(DropEdited(aggregate_id=self.id, aggregate_version=self._bump(), occurred_at=now,
                                skus=terms.skus, opens_at=terms.opens_at, ends_at=terms.ends_at))

    def cancel(self, *, now: datetime) -> None:
        phase = self.phase(now)
        if phase is DropPhase.CANCELLED:
            return
        if phase is DropPhase.ENDED:
            raise Conflict(f"drop {self.id} has ended: there is nothing left to cancel")
        self.cancelled_at = now
        self._record(DropCancelled(aggregate_id=self.id, aggregate_version=self._bump(), occurred_at=now,
                                   skus=self.terms.skus))

    def sell_out(self, *, now: datetime) -> None:
        """Its SKUs have no unit left: the room tells everyone waiting (said once, however often it is heard)."""
        if self.phase(now) is not DropPhase.OPEN:
            return
        self.sold_out_at = now
        self._record(DropSoldOut(aggregate_id=self.id, aggregate_version=self._bump(), occurred_at=now,
                                 skus=self.terms.skus))

    def _bump(self) -> int:
        self.version += 1
        return self.version
