"""Filters sent to Meilisearch quote every value, so a shopper's input cannot change the filter."""

from __future__ import annotations

import pytest

from adapters.meilisearch.index import MeilisearchError, filters, synonyms_setting
from application.search.ports import IndexQuery
from domain.search.merchandising import SynonymGroup


def test_values_are_quoted_and_escaped() -> None:
    query = IndexQuery(category_id='shoes" OR in_stock = false', attributes={"colour": 'red\\"'}, min_price=5,
                       max_price=10, in_stock=True)
    assert filters(query) == [
        'category_ids = "shoes\\" OR in_stock = false"',
        'attr_tokens = "colour=red\\\\\\""',
        "prices.EUR >= 5",
        "prices.EUR <= 10",
        "in_stock = true",
    ]


def test_a_currency_must_be_a_code() -> None:
    with pytest.raises(MeilisearchError):
        filters(IndexQuery(currency="EUR OR 1=1", min_price=1))


def test_each_synonym_maps_to_the_rest_of_its_groups() -> None:
    groups = [SynonymGroup(id="a", terms=("sneakers", "trainers")), SynonymGroup(id="b", terms=("sneakers", "kicks"))]
    assert synonyms_setting(groups) == {"sneakers": ["trainers", "kicks"], "trainers": ["sneakers"],
                                        "kicks": ["sneakers"]}
