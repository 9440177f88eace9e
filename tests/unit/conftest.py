"""Unit-test hooks for `make mutation` (docs/testing.md); outside mutmut they do nothing.

mutmut runs, for each mutant, the unit tests that reach it and stops at the first failure:

- they run fastest first (by the durations mutmut recorded), so a fast example test kills a mutant
  before a slow property test starts;
- property tests try 25 examples instead of 100, derandomized: a surviving mutant then runs the same
  examples every time, so the score does not wander between runs. (Fewer examples can only let a
  mutant survive, never kill one wrongly: the score errs low.)
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import settings

UNDER_MUTMUT = "MUTANT_UNDER_TEST" in os.environ

if UNDER_MUTMUT:
    settings.register_profile("mutation", parent=settings.get_profile("emporium"), max_examples=25,
                              derandomize=True, database=None)
    settings.load_profile("mutation")

_durations: dict[str, float] | None = None


def _recorded_durations() -> dict[str, float]:
    global _durations
    if _durations is None:
        stats = Path("mutmut-stats.json")  # mutmut runs the tests inside mutants/
        _durations = json.loads(stats.read_text())["duration_by_test"] if stats.exists() else {}
    return _durations


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "__mutmut_" not in os.environ.get("MUTANT_UNDER_TEST", ""):
        return
    durations = _recorded_durations()
    items.sort(key=lambda item: durations.get(item.nodeid, 0.0))
