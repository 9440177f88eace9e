"""The Promotion aggregate: drafts, publishing, immutable published versions, schedule and archive."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from domain.promotions.errors import PromotionError, PromotionStateConflict
from domain.promotions.promotion import (
    Promotion,
    PromotionArchived,
    PromotionDrafted,
    PromotionPublished,
    PromotionScheduled,
    PromotionStatus,
    PromotionTerms,
)
from domain.promotions.text import parse
from domain.shared.errors import Conflict, InvalidInput

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)
TEN_OFF = PromotionTerms(name="Ten off", rule=parse("when subtotal >= 50.00 EUR then 10.00 EUR off order"))
TWENTY_OFF = dataclasses.replace(TEN_OFF, name="Twenty off",
                                 rule=parse("when subtotal >= 50.00 EUR then 20.00 EUR off order"))


def new_promotion(promotion_id: str = "promo-1") -> Promotion:
    return Promotion.create(id=promotion_id, terms=TEN_OFF, now=NOW)


def test_a_new_promotion_is_a_draft_the_engine_does_not_see() -> None:
    promotion = new_promotion()
    assert promotion.status is PromotionStatus.DRAFT
    assert [v.number for v in promotion.versions] == [1]
    assert promotion.published is None
    assert promotion.active() is None
    assert [type(e) for e in promotion.pull_events()] == [PromotionDrafted]


def test_publishing_freezes_the_draft_and_hands_it_to_the_engine() -> None:
    promotion = new_promotion()
    published = promotion.publish(now=LATER)
    assert (published.number, published.published_at) == (1, LATER)
    assert promotion.status is PromotionStatus.PUBLISHED
    assert promotion.draft is None
    active = promotion.active()
    assert active is not None
    assert (active.promotion_id, active.version, active.rule) == ("promo-1", 1, TEN_OFF.rule)
    with pytest.raises(PromotionStateConflict, match="no draft"):
        promotion.publish(now=LATER)


def test_editing_a_published_promotion_starts_a_new_draft_and_leaves_the_published_version_alone() -> None:
    promotion = new_promotion()
    first = promotion.publish(now=NOW)
    draft = promotion.edit(TWENTY_OFF, now=LATER)
    assert draft.number == 2
    assert not draft.is_published
    assert promotion.versions[0] == first  # unchanged, and frozen
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.terms = TWENTY_OFF  # type: ignore[misc]
    active = promotion.active()
    assert active is not None
    assert (active.version, active.name) == (1, "Ten off")  # shoppers still get version 1

    again = promotion.edit(dataclasses.replace(TWENTY_OFF, priority=5), now=LATER)
    assert again.number == 2  # a draft is edited in place
    assert [v.number for v in promotion.versions] == [1, 2]

    promotion.publish(now=LATER)
    active = promotion.active()
    assert active is not None
    assert (active.version, active.priority) == (2, 5)
    assert [v.is_published for v in promotion.versions] == [True, True]


def test_archived_promotions_are_withdrawn_and_cannot_change() -> None:
    promotion = new_promotion()
    promotion.publish(now=NOW)
    promotion.archive(now=LATER)
    promotion.archive(now=LATER)  # a second archive changes nothing
    assert promotion.status is PromotionStatus.ARCHIVED
    assert promotion.active() is None
    for attempt in (lambda: promotion.edit(TWENTY_OFF, now=LATER), lambda: promotion.publish(now=LATER),
                    lambda: promotion.schedule(starts_at=NOW, ends_at=None, now=LATER)):
        with pytest.raises(Conflict):
            attempt()
    assert [type(e) for e in promotion.pull_events()] == [PromotionDrafted, PromotionPublished, PromotionArchived]
    assert promotion.version == 3


def test_the_schedule_travels_to_the_engine() -> None:
    promotion = new_promotion()
    promotion.schedule(starts_at=NOW, ends_at=NOW + timedelta(days=7), now=NOW)
    promotion.publish(now=NOW)
    active = promotion.active()
    assert active is not None
    assert (active.starts_at, active.ends_at) == (NOW, NOW + timedelta(days=7))
    assert PromotionScheduled in [type(e) for e in promotion.pull_events()]
    with pytest.raises(PromotionError, match="end after it starts"):
        promotion.schedule(starts_at=NOW, ends_at=NOW, now=NOW)
    with pytest.raises(PromotionError, match="timezone-aware"):
        promotion.schedule(starts_at=datetime(2026, 6, 1), ends_at=None, now=NOW)  # naive on purpose


def test_terms_are_checked() -> None:
    with pytest.raises(InvalidInput):
        dataclasses.replace(TEN_OFF, name="  ")
    with pytest.raises(PromotionError, match="exclude itself"):
        Promotion.create(id="p", terms=dataclasses.replace(TEN_OFF, not_combinable_with=frozenset({"p"})), now=NOW)
    with pytest.raises(InvalidInput):
        dataclasses.replace(TEN_OFF, coupon_codes=frozenset({" "}))


def test_events_carry_the_version_number_they_are_about() -> None:
    promotion = new_promotion()
    promotion.publish(now=NOW)
    promotion.edit(TWENTY_OFF, now=LATER)
    events = promotion.pull_events()
    assert [(type(e).__name__, getattr(e, "number", None), e.aggregate_version) for e in events] == [
        ("PromotionDrafted", 1, 1), ("PromotionPublished", 1, 2), ("PromotionDrafted", 2, 3),
    ]


def test_published_promotions_price_a_cart_and_drafts_do_not() -> None:
    from domain.promotions.engine import PricingContext, PricingLine, price

    live = new_promotion("live")
    live.publish(now=NOW)
    live.edit(TWENTY_OFF, now=LATER)  # an unpublished draft must not leak to shoppers
    draft_only = new_promotion("draft-only")
    active = [a for a in (live.active(), draft_only.active()) if a is not None]
    context = PricingContext(
        lines=(PricingLine(sku="A", product_id="p-a", quantity=1, unit_price=6000),), currency="EUR", at=LATER,
    )
    result = price(context, active)
    assert result.total == 5000
    assert [(a.promotion_id, a.version, a.amount) for a in result.lines[0].applied] == [("live", 1, 1000)]
