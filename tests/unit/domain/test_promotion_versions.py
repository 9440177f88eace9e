"""The Promotion aggregate: drafts, publishing, schedules and archiving, every event field pinned."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.promotions.engine import ActivePromotion
from domain.promotions.errors import InvalidRule, PromotionError, PromotionStateConflict
from domain.promotions.promotion import (
    Promotion,
    PromotionArchived,
    PromotionDrafted,
    PromotionPublished,
    PromotionScheduled,
    PromotionStatus,
    PromotionTerms,
    PromotionVersion,
)
from domain.promotions.text import parse
from domain.shared.money import Money

T0 = datetime(2026, 6, 1, tzinfo=UTC)
T1 = T0 + timedelta(days=1)
T2 = T0 + timedelta(days=2)
RULE = parse("when always then 10% off order")


def terms(name: str = "Ten off", **more: object) -> PromotionTerms:
    return PromotionTerms(name=name, rule=RULE, **more)  # type: ignore[arg-type]


def created() -> Promotion:
    promotion = Promotion.create(id="promo-1", terms=terms(), now=T0)
    promotion.pull_events()
    return promotion


def test_a_new_promotion_is_a_draft_version_one() -> None:
    promotion = Promotion.create(id="promo-1", terms=terms(), now=T0, starts_at=T0, ends_at=T1)
    assert promotion.versions == (PromotionVersion(number=1, terms=terms(), created_at=T0),)
    assert (promotion.status, promotion.published, promotion.draft, promotion.version) == (
        PromotionStatus.DRAFT, None, promotion.versions[0], 1)
    assert (promotion.starts_at, promotion.ends_at, promotion.archived_at) == (T0, T1, None)
    assert promotion.pull_events() == [PromotionDrafted(aggregate_id="promo-1", aggregate_version=1, occurred_at=T0,
                                                        number=1)]
    assert promotion.active() is None
    assert (PromotionDrafted.topic, PromotionPublished.topic, PromotionScheduled.topic, PromotionArchived.topic) == (
        "promotions.promotion_drafted.v1", "promotions.promotion_published.v1",
        "promotions.promotion_scheduled.v1", "promotions.promotion_archived.v1")


@pytest.mark.parametrize(
    ("more", "message"),
    [
        ({"name": " "}, "^a promotion needs a name$"),
        ({"exclusive_group": " "}, "^an exclusive group needs a name$"),
        ({"coupon_codes": frozenset({"OK", " "})}, "^a coupon code cannot be blank$"),
    ],
)
def test_terms_need_a_name_a_named_group_and_no_blank_codes(more: dict[str, object], message: str) -> None:
    fields = {"name": "Ten off", **more}
    with pytest.raises(PromotionError, match=message):
        PromotionTerms(rule=RULE, **fields)  # type: ignore[arg-type]


def test_a_maximum_discount_may_be_zero_but_not_negative() -> None:
    assert terms(max_discount_per_order=(Money(0, "EUR"),)).max_discount_per_order == (Money(0, "EUR"),)
    with pytest.raises(InvalidRule, match=r"^a maximum discount per order must be zero or more$"):
        terms(max_discount_per_order=(Money(-1, "EUR"),))


def test_a_promotion_cannot_exclude_itself() -> None:
    with pytest.raises(PromotionError, match=r"^a promotion cannot exclude itself$"):
        Promotion.create(id="promo-1", terms=terms(not_combinable_with=frozenset({"promo-1"})), now=T0)
    promotion = created()
    with pytest.raises(PromotionError, match=r"cannot exclude itself"):
        promotion.edit(terms(not_combinable_with=frozenset({"promo-1"})), now=T1)


@pytest.mark.parametrize(
    ("starts_at", "ends_at", "message"),
    [
        (T0, T0, "^a promotion must end after it starts$"),
        (T1, T0, "end after it starts"),
        (datetime(2026, 6, 1), None, "^a schedule needs timezone-aware datetimes$"),  # naive on purpose
        (None, datetime(2026, 6, 1), "timezone-aware"),  # naive on purpose
    ],
)
def test_a_schedule_is_aware_and_ends_after_it_starts(starts_at: datetime | None, ends_at: datetime | None,
                                                      message: str) -> None:
    with pytest.raises(PromotionError, match=message):
        Promotion.create(id="p", terms=terms(), now=T0, starts_at=starts_at, ends_at=ends_at)
    promotion = created()
    with pytest.raises(PromotionError, match=message):
        promotion.schedule(starts_at=starts_at, ends_at=ends_at, now=T1)
    assert (promotion.starts_at, promotion.ends_at, promotion.version) == (None, None, 1)


def test_editing_a_draft_replaces_it() -> None:
    promotion = created()
    draft = promotion.edit(terms("Twenty off"), now=T1)
    assert draft == PromotionVersion(number=1, terms=terms("Twenty off"), created_at=T1)
    assert promotion.versions == (draft,)
    assert promotion.pull_events() == [PromotionDrafted(aggregate_id="promo-1", aggregate_version=2, occurred_at=T1,
                                                        number=1)]


def test_publishing_freezes_the_draft_and_hands_it_to_the_engine() -> None:
    promotion = Promotion.create(id="promo-1", terms=terms(priority=3, exclusive_group="g",
                                                          not_combinable_with=frozenset({"x"}),
                                                          max_discount_per_order=(Money(500, "EUR"),),
                                                          coupon_codes=frozenset({"TEN"})),
                                 now=T0, starts_at=T0, ends_at=T2)
    promotion.pull_events()
    published = promotion.publish(now=T1)
    assert published.published_at == T1
    assert published.is_published
    assert (promotion.published, promotion.draft, promotion.status) == (published, None, PromotionStatus.PUBLISHED)
    assert promotion.pull_events() == [PromotionPublished(aggregate_id="promo-1", aggregate_version=2,
                                                          occurred_at=T1, number=1)]
    assert promotion.active() == ActivePromotion(
        promotion_id="promo-1", version=1, name="Ten off", rule=RULE, priority=3, exclusive_group="g",
        not_combinable_with=frozenset({"x"}), max_discount_per_order=(Money(500, "EUR"),),
        coupon_codes=frozenset({"TEN"}), starts_at=T0, ends_at=T2)
    with pytest.raises(PromotionStateConflict, match=r"^promotion promo-1 has no draft to publish$"):
        promotion.publish(now=T2)


def test_editing_a_published_promotion_starts_the_next_version_and_shoppers_keep_the_published_one() -> None:
    promotion = created()
    promotion.publish(now=T1)
    promotion.pull_events()
    draft = promotion.edit(terms("Twenty off"), now=T2)
    assert draft == PromotionVersion(number=2, terms=terms("Twenty off"), created_at=T2)
    assert [v.number for v in promotion.versions] == [1, 2]
    assert (promotion.published.number, promotion.draft, promotion.status) == (  # type: ignore[union-attr]
        1, draft, PromotionStatus.PUBLISHED)
    assert promotion.active().name == "Ten off"  # type: ignore[union-attr]
    assert promotion.pull_events() == [PromotionDrafted(aggregate_id="promo-1", aggregate_version=3, occurred_at=T2,
                                                        number=2)]
    promotion.publish(now=T2)
    assert (promotion.active().version, promotion.active().name) == (2, "Twenty off")  # type: ignore[union-attr]


def test_scheduling_sets_both_ends_and_is_recorded() -> None:
    promotion = created()
    promotion.schedule(starts_at=T1, ends_at=None, now=T0)
    assert (promotion.starts_at, promotion.ends_at) == (T1, None)
    assert promotion.pull_events() == [PromotionScheduled(aggregate_id="promo-1", aggregate_version=2,
                                                          occurred_at=T0, starts_at=T1, ends_at=None)]
    promotion.schedule(starts_at=T1, ends_at=T2, now=T0)
    assert (promotion.starts_at, promotion.ends_at) == (T1, T2)
    assert promotion.pull_events() == [PromotionScheduled(aggregate_id="promo-1", aggregate_version=3,
                                                          occurred_at=T0, starts_at=T1, ends_at=T2)]


def test_archiving_withdraws_the_promotion_for_good_once() -> None:
    promotion = created()
    promotion.publish(now=T1)
    promotion.pull_events()
    promotion.archive(now=T2)
    assert (promotion.status, promotion.archived_at, promotion.active()) == (PromotionStatus.ARCHIVED, T2, None)
    assert promotion.pull_events() == [PromotionArchived(aggregate_id="promo-1", aggregate_version=3,
                                                         occurred_at=T2)]
    promotion.archive(now=T2 + timedelta(days=1))
    assert (promotion.archived_at, promotion.version, promotion.pull_events()) == (T2, 3, [])
    for verb, act in [("edit", lambda: promotion.edit(terms(), now=T2)),
                      ("publish", lambda: promotion.publish(now=T2)),
                      ("schedule", lambda: promotion.schedule(starts_at=None, ends_at=None, now=T2))]:
        with pytest.raises(PromotionStateConflict, match=fr"^promotion promo-1 is archived; it cannot {verb}$"):
            act()


def test_a_promotion_loaded_from_storage_keeps_its_versions_and_counter() -> None:
    version = PromotionVersion(number=4, terms=terms(), created_at=T0, published_at=T1)
    loaded = Promotion(id="p", versions=[version], version=9)
    assert (loaded.version, loaded.published, loaded.draft, loaded.events) == (9, version, None, [])
    assert (loaded.starts_at, loaded.ends_at, loaded.archived_at) == (None, None, None)
    archived = Promotion(id="p", versions=[version], starts_at=T0, ends_at=T2, archived_at=T1)
    assert (archived.status, archived.starts_at, archived.ends_at, archived.active()) == (
        PromotionStatus.ARCHIVED, T0, T2, None)
