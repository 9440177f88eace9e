"""The problem map resolves by class hierarchy: its order does not matter, and it names no technology."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import random
from pathlib import Path
from typing import Any

import msgspec
import pytest

from entrypoints.http import problems

PROBLEMS_SOURCE = Path(problems.__file__)


def _error_classes() -> list[type[BaseException]]:
    """Every exception class the domain and the application define, mapped or not."""
    found: dict[str, type[BaseException]] = {}
    for root in ("domain", "application"):
        package = importlib.import_module(root)
        for info in pkgutil.walk_packages(package.__path__, root + "."):
            module = importlib.import_module(info.name)
            for obj in vars(module).values():
                if inspect.isclass(obj) and issubclass(obj, BaseException) and obj.__module__.startswith(root + "."):
                    found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return [found[key] for key in sorted(found)]


def _instance(cls: type[BaseException]) -> BaseException:
    error = cls.__new__(cls)
    error.args = ("what went wrong",)
    for name, value in (("skus", ["SKU-1"]), ("errors", {"postal_code": "invalid"}), ("position", 3),
                        ("retry_after", 7), ("limit", 2), ("drop_id", "drop-1"), ("category_ids", ["cat-1"])):
        setattr(error, name, value)
    return error


def _answer(error: BaseException) -> tuple[int, Any, dict[str, str]]:
    handler = next(problems.EXCEPTION_HANDLERS[c] for c in type(error).__mro__ if c in problems.EXCEPTION_HANDLERS)
    response = handler(None, error)
    return response.status_code, msgspec.to_builtins(response.content), dict(response.headers or {})


def _answers() -> dict[type[BaseException], tuple[int, Any, dict[str, str]]]:
    return {cls: _answer(_instance(cls)) for cls in [*problems.ERRORS, *_error_classes()]}


@pytest.fixture(autouse=True)
def _restore_map(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(problems, "ERRORS", dict(problems.ERRORS))


def test_every_mapped_class_reports_its_own_status_type_and_title() -> None:
    for cls, expected in problems.ERRORS.items():
        status, body, _ = _answer(_instance(cls))
        assert status == expected.status, cls
        assert body["type"] == problems.TYPE_BASE + expected.slug, cls
        assert body["title"] == (expected.title or "what went wrong"), cls


@pytest.mark.parametrize("order", ["reversed", *(f"shuffle-{seed}" for seed in range(5))])
def test_the_order_of_the_error_map_changes_no_answer(order: str, monkeypatch: pytest.MonkeyPatch) -> None:
    before = _answers()
    items = list(problems.ERRORS.items())
    if order == "reversed":
        items.reverse()
    else:
        random.Random(int(order.split("-")[1])).shuffle(items)
    monkeypatch.setattr(problems, "ERRORS", dict(items))
    assert _answers() == before


def test_a_subclass_wins_over_its_base_wherever_it_is_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    class Specific(problems.NotFound):
        pass

    class MoreSpecific(Specific):
        pass

    monkeypatch.setattr(problems, "ERRORS", {problems.NotFound: problems.ERRORS[problems.NotFound]})
    problems.register_error(Specific, 410, "specific-gone", "Gone")
    status, body, _ = _answer(MoreSpecific("x"))
    assert (status, body["type"], body["title"]) == (410, problems.TYPE_BASE + "more-specific", "Gone")
    assert _answer(problems.NotFound("x"))[0] == 404


def test_an_unmapped_subclass_reports_its_own_name_with_its_base_status_and_title() -> None:
    class ShelfNotFound(problems.NotFound):
        pass

    status, body, _ = _answer(ShelfNotFound("no shelf"))
    assert (status, body["type"], body["title"], body["detail"]) == (
        404, problems.TYPE_BASE + "shelf-not-found", "Not found", "no shelf")


def test_the_problem_map_imports_no_database_library_and_no_handler_module() -> None:
    tree = ast.parse(PROBLEMS_SOURCE.read_text())
    imported = [
        *(alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names),
        *(node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)),
    ]
    assert not [name for name in imported if name.split(".")[0] in {"sqlalchemy", "psycopg", "redis"}]
    assert not [name for name in imported if name.startswith("application.") and name.endswith(".handlers")]
