"""Search merchandising (synonyms, pins, boosts, burials, redirects) and storefront tracking batches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.analytics.tracking import (
    MAX_AGE,
    MAX_BATCH,
    MAX_FUTURE_SKEW,
    Kind,
    TrackedEvent,
    TrackingError,
    check_batch,
)
from domain.search.merchandising import (
    MAX_GROUP_TERMS,
    MAX_RULE_PRODUCTS,
    MerchandisingError,
    MerchandisingRule,
    Redirect,
    RuleKind,
    SynonymGroup,
    arrange,
    normalise,
)

NOW = datetime(2026, 10, 1, 12, tzinfo=UTC)


def test_queries_compare_lower_cased_trimmed_with_single_spaces() -> None:
    assert normalise("  Running \t  SHOES\n") == "running shoes"


def test_a_synonym_group_keeps_distinct_normalised_terms_in_order() -> None:
    group = SynonymGroup.create(id="g", terms=["Sneakers", " trainers", "sneakers ", "", "  "])
    assert group == SynonymGroup(id="g", terms=("sneakers", "trainers"))


def test_a_synonym_group_has_two_to_twenty_terms_of_at_most_a_hundred_characters() -> None:
    with pytest.raises(MerchandisingError, match=r"^a synonym group needs at least two different terms$"):
        SynonymGroup.create(id="g", terms=["shoe", "SHOE"])
    assert len(SynonymGroup.create(id="g", terms=[f"t{i}" for i in range(MAX_GROUP_TERMS)]).terms) == 20
    with pytest.raises(MerchandisingError, match=r"^a synonym group holds at most 20 terms$"):
        SynonymGroup.create(id="g", terms=[f"t{i}" for i in range(MAX_GROUP_TERMS + 1)])
    assert SynonymGroup.create(id="g", terms=["a" * 100, "b"]).terms[0] == "a" * 100
    with pytest.raises(MerchandisingError, match=r"^a synonym is at most 100 characters$"):
        SynonymGroup.create(id="g", terms=["a" * 101, "b"])


def test_a_rule_applies_to_a_query_or_a_category_and_names_its_products_once() -> None:
    rule = MerchandisingRule.create(id="r", kind="pin", product_ids=["p2", "p1", "p2"], query=" Red  Shoes ")
    assert rule == MerchandisingRule(id="r", kind=RuleKind.PIN, product_ids=("p2", "p1"), query="red shoes",
                                     category_id=None)
    assert rule.applies_to("RED shoes", None)
    assert rule.applies_to("red shoes", "shoes")
    assert not rule.applies_to("red", None)
    by_category = MerchandisingRule.create(id="r", kind="bury", product_ids=["p1"], category_id="shoes")
    assert (by_category.kind, by_category.query, by_category.category_id) == (RuleKind.BURY, None, "shoes")
    assert by_category.applies_to("anything", "shoes")
    assert not by_category.applies_to("anything", "bags")
    assert not by_category.applies_to("anything", None)


@pytest.mark.parametrize(
    "trigger",
    [{}, {"query": "shoes", "category_id": "shoes"}, {"query": "   "}],
)
def test_a_rule_needs_exactly_one_trigger(trigger: dict[str, str]) -> None:
    with pytest.raises(MerchandisingError, match=r"^a rule applies to either a query or a category, not both$"):
        MerchandisingRule.create(id="r", kind="boost", product_ids=["p1"], **trigger)


def test_a_rule_has_a_known_kind_and_one_to_fifty_products() -> None:
    with pytest.raises(MerchandisingError, match=r"^a rule is one of pin, boost, bury$"):
        MerchandisingRule.create(id="r", kind="hide", product_ids=["p1"], query="x")
    with pytest.raises(MerchandisingError, match=r"^a rule names 1 to 50 products$"):
        MerchandisingRule.create(id="r", kind="pin", product_ids=[], query="x")
    ids = [f"p{i}" for i in range(MAX_RULE_PRODUCTS)]
    assert len(MerchandisingRule.create(id="r", kind="pin", product_ids=ids, query="x").product_ids) == 50
    with pytest.raises(MerchandisingError, match=r"1 to 50"):
        MerchandisingRule.create(id="r", kind="pin", product_ids=[*ids, "p50"], query="x")


def test_a_redirect_goes_from_a_query_to_a_path_or_https_url() -> None:
    assert Redirect.create(id="r", query=" Returns ", url="/pages/returns") == Redirect(
        id="r", query="returns", url="/pages/returns")
    assert Redirect.create(id="r", query="x", url="https://help.example/" + "a" * 478).url.endswith("a")
    with pytest.raises(MerchandisingError, match=r"^a redirect needs a query$"):
        Redirect.create(id="r", query="  ", url="/x")
    for url in ["http://help.example", "pages/x", "/a b", "/" + "a" * 500]:
        with pytest.raises(MerchandisingError, match=r"^a redirect goes to a path \(/\.\.\.\) or an https:// URL$"):
            Redirect.create(id="r", query="x", url=url)
    assert len(Redirect.create(id="r", query="x", url="/" + "a" * 499).url) == 500


def rule(kind: str, *ids: str) -> MerchandisingRule:
    return MerchandisingRule.create(id=kind, kind=kind, product_ids=list(ids), query="q")


def test_arranging_puts_pins_first_then_boosts_the_rest_and_burials_last() -> None:
    ranked = ["a", "b", "c", "d", "e"]
    assert arrange(ranked, [rule("bury", "a"), rule("boost", "d"), rule("pin", "x", "c")]) == [
        "x", "c", "d", "b", "e", "a"]
    assert arrange(ranked, []) == ranked


def test_a_pin_beats_a_boost_and_a_burial_and_a_boost_beats_a_burial() -> None:
    ranked = ["a", "b", "c"]
    assert arrange(ranked, [rule("bury", "c", "b"), rule("pin", "c"), rule("boost", "b")]) == ["c", "b", "a"]
    assert arrange(ranked, [rule("pin", "b"), rule("pin", "a", "b")]) == ["b", "a", "c"]


# -- tracking ----------------------------------------------------------------------------------------


def event(event_id: str = "e1", at: datetime = NOW) -> TrackedEvent:
    return TrackedEvent(id=event_id, kind=Kind.PAGE_VIEWED, occurred_at=at, anonymous_id="anon")


def test_a_batch_of_one_to_a_hundred_distinct_events_is_accepted() -> None:
    check_batch([event()], now=NOW)
    check_batch([event(f"e{i}") for i in range(MAX_BATCH)], now=NOW)
    with pytest.raises(TrackingError, match=r"^a batch needs at least one event$"):
        check_batch([], now=NOW)
    with pytest.raises(TrackingError, match=r"^a batch holds at most 100 events, got 101$"):
        check_batch([event(f"e{i}") for i in range(MAX_BATCH + 1)], now=NOW)
    with pytest.raises(TrackingError, match=r"^event ids repeat within the batch$"):
        check_batch([event("e1"), event("e2"), event("e1")], now=NOW)


def test_event_times_are_timezone_aware_within_five_minutes_ahead_and_seven_days_back() -> None:
    assert (timedelta(minutes=5), timedelta(days=7)) == (MAX_FUTURE_SKEW, MAX_AGE)
    check_batch([event("a", NOW + MAX_FUTURE_SKEW), event("b", NOW - MAX_AGE)], now=NOW)
    with pytest.raises(TrackingError, match=r"^events\[1\].occurred_at is in the future$"):
        check_batch([event("a"), event("b", NOW + MAX_FUTURE_SKEW + timedelta(microseconds=1))], now=NOW)
    with pytest.raises(TrackingError, match=r"^events\[0\].occurred_at is older than 7 days$"):
        check_batch([event("a", NOW - MAX_AGE - timedelta(microseconds=1))], now=NOW)
    with pytest.raises(TrackingError, match=r"^events\[0\].occurred_at needs a timezone$"):
        check_batch([event("a", datetime(2026, 10, 1, 12))], now=NOW)  # naive on purpose


def test_a_tracked_event_defaults_to_an_anonymous_shopper_without_properties() -> None:
    tracked = event()
    assert (tracked.customer_id, tracked.properties) == (None, {})
    assert Kind("checkout_step_completed") is Kind.CHECKOUT_STEP_COMPLETED
