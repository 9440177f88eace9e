"""The Promotion aggregate: a schedule and a list of versions, of which published ones never change.

Editing a promotion whose latest version is published starts a new draft version; editing a draft
replaces it. ``publish`` freezes the draft; the engine is handed the newest published version.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum

from domain.promotions.checks import check_amounts
from domain.promotions.engine import ActivePromotion
from domain.promotions.errors import PromotionError, PromotionStateConflict
from domain.promotions.rules import Rule
from domain.shared.events import Aggregate, DomainEvent
from domain.shared.money import Money


class PromotionStatus(Enum):
    DRAFT = "draft"  # never published
    PUBLISHED = "published"  # has a published version (and maybe a newer draft)
    ARCHIVED = "archived"


@dataclass(frozen=True, slots=True, kw_only=True)
class PromotionTerms:
    """Everything a version fixes: what the promotion does and how it stacks."""

    name: str
    rule: Rule
    priority: int = 0
    exclusive_group: str | None = None
    not_combinable_with: frozenset[str] = frozenset()
    max_discount_per_order: tuple[Money, ...] = ()
    coupon_codes: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise PromotionError("a promotion needs a name")
        if self.exclusive_group is not None and not self.exclusive_group.strip():
            raise PromotionError("an exclusive group needs a name")
        if self.max_discount_per_order:
            check_amounts(self.max_discount_per_order, "a maximum discount per order", allow_zero=True)
        if any(not code.strip() for code in self.coupon_codes):
            raise PromotionError("a coupon code cannot be blank")


@dataclass(frozen=True, slots=True, kw_only=True)
class PromotionVersion:
    number: int
    terms: PromotionTerms
    created_at: datetime
    published_at: datetime | None = None

    @property
    def is_published(self) -> bool:
        return self.published_at is not None


@dataclass(frozen=True, slots=True, kw_only=True)
class PromotionDrafted(DomainEvent):
    topic = "promotions.promotion_drafted.v1"
    number: int


@dataclass(frozen=True, slots=True, kw_only=True)
class PromotionPublished(DomainEvent):
    topic = "promotions.promotion_published.v1"
    number: int


@dataclass(frozen=True, slots=True, kw_only=True)
class PromotionScheduled(DomainEvent):
    topic = "promotions.promotion_scheduled.v1"
    starts_at: datetime | None
    ends_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class PromotionArchived(DomainEvent):
    topic = "promotions.promotion_archived.v1"


@dataclass(frozen=True, slots=True, kw_only=True)
class CouponsAdded(DomainEvent):
    """Codes registered for a promotion: from now on it applies only with one of them entered."""

    topic = "promotions.coupons_added.v1"
    count: int


def _check_window(starts_at: datetime | None, ends_at: datetime | None) -> None:
    for moment in (starts_at, ends_at):
        if moment is not None and moment.utcoffset() is None:
            raise PromotionError("a schedule needs timezone-aware datetimes")
    if starts_at is not None and ends_at is not None and ends_at <= starts_at:
        raise PromotionError("a promotion must end after it starts")


class Promotion(Aggregate):
    def __init__(
        self, *, id: str, versions: list[PromotionVersion], starts_at: datetime | None = None,
        ends_at: datetime | None = None, archived_at: datetime | None = None, version: int = 0,
    ) -> None:
        self.id = id
        self._versions = list(versions)
        self.starts_at = starts_at
        self.ends_at = ends_at
        self.archived_at = archived_at
        self.version = version
        self.events = []

    @classmethod
    def create(cls, *, id: str, terms: PromotionTerms, now: datetime, starts_at: datetime | None = None,
               ends_at: datetime | None = None) -> Promotion:
        """A new promotion with its first version as a draft."""
        _check_window(starts_at, ends_at)
        promotion = cls(id=id, versions=[], starts_at=starts_at, ends_at=ends_at)
        promotion._check_terms(terms)
        promotion._versions.append(PromotionVersion(number=1, terms=terms, created_at=now))
        promotion._record(PromotionDrafted(aggregate_id=id, aggregate_version=promotion._bump(), occurred_at=now,
                                           number=1))
        return promotion

    @property
    def versions(self) -> tuple[PromotionVersion, ...]:
        return tuple(self._versions)

    @property
    def published(self) -> PromotionVersion | None:
        """The newest published version: the one shoppers get."""
        return next((v for v in reversed(self._versions) if v.is_published), None)

    @property
    def draft(self) -> PromotionVersion | None:
        latest = self._versions[-1]
        return None if latest.is_published else latest

    @property
    def status(self) -> PromotionStatus:
        if self.archived_at is not None:
            return PromotionStatus.ARCHIVED
        return PromotionStatus.DRAFT if self.published is None else PromotionStatus.PUBLISHED

    def edit(self, terms: PromotionTerms, *, now: datetime) -> PromotionVersion:
        """Change the draft, or start a new draft version when the latest one is published."""
        self._check_not_archived("edit")
        self._check_terms(terms)
        latest = self._versions[-1]
        if latest.is_published:
            draft = PromotionVersion(number=latest.number + 1, terms=terms, created_at=now)
            self._versions.append(draft)
        else:
            draft = replace(latest, terms=terms, created_at=now)
            self._versions[-1] = draft
        self._record(PromotionDrafted(aggregate_id=self.id, aggregate_version=self._bump(), occurred_at=now,
                                      number=draft.number))
        return draft

    def publish(self, *, now: datetime) -> PromotionVersion:
        """Freeze the draft: from now on the engine applies this version."""
        self._check_not_archived("publish")
        draft = self.draft
        if draft is None:
            raise PromotionStateConflict(f"promotion {self.id} has no draft to publish")
        published = replace(draft, published_at=now)
        self._versions[-1] = published
        self._record(PromotionPublished(aggregate_id=self.id, aggregate_version=self._bump(), occurred_at=now,
                                        number=published.number))
        return published

    def schedule(self, *, starts_at: datetime | None, ends_at: datetime | None, now: datetime) -> None:
        """When shoppers get the promotion; ``None`` leaves that end open."""
        self._check_not_archived("schedule")
        _check_window(starts_at, ends_at)
        self.starts_at, self.ends_at = starts_at, ends_at
        self._record(PromotionScheduled(aggregate_id=self.id, aggregate_version=self._bump(), occurred_at=now,
                                        starts_at=starts_at, ends_at=ends_at))

    def archive(self, *, now: datetime) -> None:
        """Withdraw the promotion for good; archiving twice changes nothing."""
        if self.archived_at is None:
            self.archived_at = now
            self._record(PromotionArchived(aggregate_id=self.id, aggregate_version=self._bump(), occurred_at=now))

    def active(self) -> ActivePromotion | None:
        """What the engine needs of the newest published version; ``None`` when archived or unpublished."""
        published = self.published
        if published is None or self.archived_at is not None:
            return None
        terms = published.terms
        return ActivePromotion(
            promotion_id=self.id, version=published.number, name=terms.name, rule=terms.rule,
            priority=terms.priority, exclusive_group=terms.exclusive_group,
            not_combinable_with=terms.not_combinable_with, max_discount_per_order=terms.max_discount_per_order,
            coupon_codes=terms.coupon_codes, starts_at=self.starts_at, ends_at=self.ends_at,
        )

    def _check_not_archived(self, verb: str) -> None:
        if self.archived_at is not None:
            raise PromotionStateConflict(f"promotion {self.id} is archived; it cannot {verb}")

    def _check_terms(self, terms: PromotionTerms) -> None:
        if self.id in terms.not_combinable_with:
            raise PromotionError("a promotion cannot exclude itself")

    def _bump(self) -> int:
        self.version += 1
        return self.version
