"""The readable text form of a rule: ``render`` here, ``parse`` re-exported from the hand-written
recursive-descent parser in ``parser`` (a module of its own only to keep both small).

``parse(render(rule)) == rule`` for every rule. Grammar (keywords are lower case, whitespace is free)::

    rule      = "when" condition "then" action { "and" action }
    condition = conjunct { "or" conjunct }
    conjunct  = unary { "and" unary }
    unary     = "not" unary | "(" condition ")" | atom
    atom      = "always" | "subtotal" ">=" amounts | "quantity" "(" selector ")" ">=" INT
              | "customer" "group" TEXT | "first" "order" | "coupon" TEXT | "currency" "=" CODE
              | "channel" "=" TEXT | "date" [ "from" DATETIME ] [ "until" DATETIME ]
    selector  = "all" | ("sku" | "product" | "category") ":" TEXT | "attribute" ":" TEXT "=" TEXT
    action    = PERCENT "off" target | amounts "off" target | "free" "shipping"
              | "buy" INT "get" INT "at" PERCENT "off" "lines" "(" selector ")" "cheapest" "first" [ "limit" INT ]
              | "bundle" "(" selector { "," selector } ")" "for" amounts
    target    = "order" | "shipping" | "lines" "(" selector ")"
    amounts   = DECIMAL CODE { "," DECIMAL CODE }        e.g. 50.00 EUR, 55.00 USD
    PERCENT   = DECIMAL "%"  (at most two decimals: 12.5% is 1250 basis points)
    TEXT      = a bare word [A-Za-z0-9_][A-Za-z0-9_.-]* or a "quoted string" with \\" and \\\\ escapes

Nested ``and``/``or`` of the same kind are rendered in parentheses so that the tree's shape survives.
"""

from __future__ import annotations

from decimal import Decimal
from typing import assert_never

from domain.promotions.checks import FULL
from domain.promotions.parser import parse, parse_condition
from domain.promotions.rules import (
    Action,
    AllLines,
    Always,
    AmountOffLines,
    AmountOffOrder,
    AmountOffShipping,
    And,
    BundlePrice,
    BuyXGetY,
    ByAttribute,
    ByCategory,
    ByProduct,
    BySku,
    ChannelIs,
    Condition,
    CouponPresent,
    CurrencyIs,
    CustomerInGroup,
    DateWindow,
    FirstOrder,
    Not,
    Or,
    PercentOffLines,
    PercentOffOrder,
    PercentOffShipping,
    QuantityAtLeast,
    Rule,
    Selector,
    SubtotalAtLeast,
)
from domain.promotions.scanner import BARE_TEXT
from domain.shared.money import Money, currency_exponent

__all__ = ["parse", "parse_condition", "render", "render_action", "render_condition", "render_selector"]


def _text(value: str, *, quote: bool = False) -> str:
    if not quote and BARE_TEXT.fullmatch(value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _percent(basis_points: int) -> str:
    whole, rest = divmod(basis_points, 100)
    return f"{whole}%" if rest == 0 else f"{whole}.{rest:02d}".rstrip("0") + "%"


def _money(money: Money) -> str:
    # scaleb keeps every digit of the coefficient: 5000 at exponent 2 reads 50.00, 12000 at exponent 0 12000.
    return f"{Decimal(money.amount).scaleb(-currency_exponent(money.currency))} {money.currency}"


def _amounts(amounts: tuple[Money, ...]) -> str:
    return ", ".join(_money(m) for m in amounts)


def render_selector(selector: Selector) -> str:
    match selector:
        case AllLines():
            return "all"
        case BySku(sku=sku):
            return f"sku:{_text(sku)}"
        case ByProduct(product_id=product_id):
            return f"product:{_text(product_id)}"
        case ByCategory(category_id=category_id):
            return f"category:{_text(category_id)}"
        case ByAttribute(name=name, value=value):
            return f"attribute:{_text(name)}={_text(value)}"
        case _:
            assert_never(selector)


def render_condition(condition: Condition) -> str:
    match condition:
        case Or(items=items):
            return " or ".join(f"({render_condition(c)})" if isinstance(c, Or) else render_condition(c) for c in items)
        case And(items=items):
            return " and ".join(
                f"({render_condition(c)})" if isinstance(c, And | Or) else render_condition(c) for c in items
            )
        case Not(item=item):
            inner = render_condition(item)
            return f"not ({inner})" if isinstance(item, And | Or) else f"not {inner}"
        case Always():
            return "always"
        case SubtotalAtLeast(amounts=amounts):
            return f"subtotal >= {_amounts(amounts)}"
        case QuantityAtLeast(lines=lines, minimum=minimum):
            return f"quantity({render_selector(lines)}) >= {minimum}"
        case CustomerInGroup(group=group):
            return f"customer group {_text(group, quote=True)}"
        case FirstOrder():
            return "first order"
        case CouponPresent(code=code):
            return f"coupon {_text(code, quote=True)}"
        case CurrencyIs(currency=currency):
            return f"currency = {currency}"
        case ChannelIs(channel=channel):
            return f"channel = {_text(channel, quote=True)}"
        case DateWindow(starts_at=starts_at, ends_at=ends_at):
            parts = ["date"]
            if starts_at is not None:
                parts.append(f"from {starts_at.isoformat()}")
            if ends_at is not None:
                parts.append(f"until {ends_at.isoformat()}")
            return " ".join(parts)
        case _:
            assert_never(condition)


def render_action(action: Action) -> str:
    match action:
        case PercentOffLines(basis_points=bp, lines=lines):
            return f"{_percent(bp)} off lines({render_selector(lines)})"
        case AmountOffLines(amounts=amounts, lines=lines):
            return f"{_amounts(amounts)} off lines({render_selector(lines)})"
        case PercentOffOrder(basis_points=bp):
            return f"{_percent(bp)} off order"
        case AmountOffOrder(amounts=amounts):
            return f"{_amounts(amounts)} off order"
        case BuyXGetY(buy=buy, get=get, basis_points=bp, lines=lines, limit=limit):
            text = f"buy {buy} get {get} at {_percent(bp)} off lines({render_selector(lines)}) cheapest first"
            return text if limit is None else f"{text} limit {limit}"
        case BundlePrice(components=components, prices=prices):
            return f"bundle({', '.join(render_selector(s) for s in components)}) for {_amounts(prices)}"
        case PercentOffShipping(basis_points=bp):
            return "free shipping" if bp == FULL else f"{_percent(bp)} off shipping"
        case AmountOffShipping(amounts=amounts):
            return f"{_amounts(amounts)} off shipping"
        case _:
            assert_never(action)


def render(rule: Rule) -> str:
    """The canonical one-line text of ``rule``."""
    return f"when {render_condition(rule.when)} then {' and '.join(render_action(a) for a in rule.then)}"
