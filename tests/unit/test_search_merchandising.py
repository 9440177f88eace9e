"""Merchandising rules and query planning, without any engine."""

from __future__ import annotations

import pytest

from application.search.text import plan, synonym_map
from domain.search.merchandising import MerchandisingError, MerchandisingRule, Redirect, SynonymGroup, arrange


def rule(kind: str, *ids: str) -> MerchandisingRule:
    return MerchandisingRule.create(id=kind, kind=kind, query="shoes", product_ids=list(ids))


def test_pins_lead_boosts_follow_and_burials_sink() -> None:
    ranked = ["a", "b", "c", "d", "e"]
    assert arrange(ranked, [rule("bury", "a"), rule("boost", "d"), rule("pin", "x", "c")]) == \
        ["x", "c", "d", "b", "e", "a"]


def test_a_pinned_product_stays_pinned_even_if_buried() -> None:
    assert arrange(["a", "b"], [rule("pin", "b"), rule("bury", "b")]) == ["b", "a"]


@pytest.mark.parametrize("kwargs", [
    {"kind": "hide", "query": "x", "product_ids": ["a"]},
    {"kind": "pin", "product_ids": ["a"]},
    {"kind": "pin", "query": "x", "category_id": "c", "product_ids": ["a"]},
    {"kind": "pin", "query": "   ", "product_ids": ["a"]},
    {"kind": "pin", "query": "x", "product_ids": []},
    {"kind": "pin", "query": "x", "product_ids": [str(n) for n in range(51)]},
])
def test_malformed_rules_are_refused(kwargs) -> None:
    with pytest.raises(MerchandisingError):
        MerchandisingRule.create(id="r", **kwargs)


def test_rules_match_queries_as_shoppers_type_them() -> None:
    pin = rule("pin", "a")
    assert pin.applies_to("  SHOES ", None)
    assert not pin.applies_to("shoe", None)
    by_category = MerchandisingRule.create(id="c", kind="boost", category_id="shoes", product_ids=["a"])
    assert by_category.applies_to("anything", "shoes")
    assert not by_category.applies_to("shoes", None)


def test_synonym_groups_and_redirects_are_checked() -> None:
    assert SynonymGroup.create(id="g", terms=["Sneakers", " sneakers ", "Trainers"]).terms == ("sneakers", "trainers")
    with pytest.raises(MerchandisingError):
        SynonymGroup.create(id="g", terms=["same", "SAME"])
    with pytest.raises(MerchandisingError):
        Redirect.create(id="r", query="returns", url="javascript:alert(1)")


def test_a_synonym_phrase_is_one_position_of_the_query() -> None:
    synonyms = synonym_map([SynonymGroup(id="g", terms=("sneakers", "running shoes"))])
    assert plan("Red running shoes", synonyms) == [["red"], ["running shoes", "sneakers"]]
    assert plan("sneakers", synonyms) == [["sneakers", "running shoes"]]
