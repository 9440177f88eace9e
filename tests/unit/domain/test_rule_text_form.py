"""The text form of a rule, read and written: the details the round trip alone does not pin."""

from __future__ import annotations

from typing import Any

import pytest

from domain.promotions import rules as r
from domain.promotions.text import parse, render_action, render_condition, render_selector


class Stranger:
    def __repr__(self) -> str:
        return "Stranger()"


def test_only_a_quote_and_a_backslash_are_escaped_any_other_backslash_stays() -> None:
    rule = parse('when coupon "\\X\\n\\"\\\\" then free shipping')
    assert rule.when == r.CouponPresent(code='\\X\\n"\\')


@pytest.mark.parametrize("render", [render_selector, render_condition, render_action])
def test_rendering_something_that_is_not_a_rule_node_is_refused_naming_it(render: Any) -> None:
    with pytest.raises(AssertionError, match=r"Stranger\(\)"):
        render(Stranger())
