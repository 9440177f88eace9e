from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.catalog.categories import CategoryNotFound, CategoryTree
from domain.catalog.product import CatalogError
from domain.shared.errors import Conflict

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def tree() -> CategoryTree:
    t = CategoryTree()
    t.add(id="shoes", name="Shoes", slug="shoes", parent_id=None, position=None, now=NOW)
    t.add(id="run", name="Running", slug="running", parent_id="shoes", position=None, now=NOW)
    t.add(id="trail", name="Trail", slug="trail", parent_id="run", position=None, now=NOW)
    t.add(id="road", name="Road", slug="road", parent_id="run", position=0, now=NOW)
    t.add(id="socks", name="Socks", slug="socks", parent_id=None, position=None, now=NOW)
    return t


def test_siblings_keep_a_dense_order() -> None:
    t = tree()
    assert [c.id for c in t.children("run")] == ["road", "trail"]
    assert [c.position for c in t.children(None)] == [0, 1]


def test_moving_a_subtree_carries_its_children_and_renumbers_both_levels() -> None:
    t = tree()
    t.move("run", parent_id="socks", position=0, now=NOW)
    assert [c.id for c in t.children("socks")] == ["run"]
    assert t.subtree("socks") == ["socks", "run", "road", "trail"]
    assert t.children("shoes") == []
    t.move("road", parent_id=None, position=0, now=NOW)
    assert [(c.id, c.position) for c in t.children(None)] == [("road", 0), ("shoes", 1), ("socks", 2)]
    assert [(c.id, c.position) for c in t.children("run")] == [("trail", 0)]


def test_no_cycles_no_duplicate_slugs_no_unknown_parents() -> None:
    t = tree()
    with pytest.raises(CatalogError):
        t.move("shoes", parent_id="trail", position=None, now=NOW)
    with pytest.raises(Conflict):
        t.add(id="x", name="Shoes again", slug="shoes", parent_id=None, position=None, now=NOW)
    with pytest.raises(CategoryNotFound):
        t.add(id="y", name="Orphan", slug="orphan", parent_id="nope", position=None, now=NOW)
    assert t.version == 5
