"""The hand-written recursive-descent parser of the rule text form (the grammar is in ``text``).

It reads characters directly (no separate tokenizer), so every error knows its exact position.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from domain.promotions.checks import FULL
from domain.promotions.errors import InvalidRule, ParseError
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
from domain.promotions.scanner import DECIMAL, Scanner
from domain.shared.money import Money

_T = TypeVar("_T")


class _Parser(Scanner):
    # grammar

    def rule(self) -> Rule:
        self.expect_word("when")
        when = self.condition()
        self.expect_word("then")
        actions = [self.action()]
        while self.accept_word("and"):
            actions.append(self.action())
        if not self.at_end():
            raise self.fail(f"expected 'and' and another action or the end{self.found()}")
        return Rule(when=when, then=tuple(actions))  # one action at least: nothing here to refuse

    def build(self, make: Callable[[], _T], start: int) -> _T:
        """Run a node constructor; a rule it refuses becomes a ParseError at ``start``."""
        try:
            return make()
        except InvalidRule as error:
            if isinstance(error, ParseError):
                raise
            raise self.fail(str(error), start) from None

    def condition(self) -> Condition:
        items = [self.conjunct()]
        while self.accept_word("or"):
            items.append(self.conjunct())
        return items[0] if len(items) == 1 else Or(items=tuple(items))

    def conjunct(self) -> Condition:
        items = [self.unary()]
        while self.accept_word("and"):
            items.append(self.unary())
        return items[0] if len(items) == 1 else And(items=tuple(items))

    def unary(self) -> Condition:
        if self.accept_word("not"):
            return Not(item=self.unary())
        if self.accept("("):
            inner = self.condition()
            self.expect(")")
            return inner
        return self.atom()

    def atom(self) -> Condition:
        self.skip_space()
        start = self.pos
        word = self.peek_word()
        if word:
            self.pos += len(word)
        match word:
            case "always":
                return Always()
            case "subtotal":
                self.expect(">=")
                return self.build(lambda: SubtotalAtLeast(amounts=self.amounts()), start)
            case "quantity":
                self.expect("(")
                lines = self.selector()
                self.expect(")")
                self.expect(">=")
                return QuantityAtLeast(lines=lines, minimum=self.integer())
            case "customer":
                self.expect_word("group")
                return self.build(lambda: CustomerInGroup(group=self.text_value()), start)
            case "first":
                self.expect_word("order")
                return FirstOrder()
            case "coupon":
                return self.build(lambda: CouponPresent(code=self.text_value()), start)
            case "currency":
                self.expect("=")
                return CurrencyIs(currency=self.currency())
            case "channel":
                self.expect("=")
                return self.build(lambda: ChannelIs(channel=self.text_value()), start)
            case "date":
                starts_at = self.moment() if self.accept_word("from") else None
                ends_at = self.moment() if self.accept_word("until") else None
                return self.build(lambda: DateWindow(starts_at=starts_at, ends_at=ends_at), start)
        self.pos = start
        raise self.fail(f"expected a condition{self.found()}")

    def selector(self) -> Selector:
        self.skip_space()
        start = self.pos
        word = self.peek_word()
        if word:
            self.pos += len(word)
        if word == "all":
            return AllLines()
        if word in {"sku", "product", "category", "attribute"}:
            self.expect(":")
            value = self.text_value()
            if word == "attribute":
                self.expect("=")
                attribute = self.text_value()
                return self.build(lambda: ByAttribute(name=value, value=attribute), start)
            kinds: dict[str, Callable[[], Selector]] = {
                "sku": lambda: BySku(sku=value), "product": lambda: ByProduct(product_id=value),
                "category": lambda: ByCategory(category_id=value),
            }
            return self.build(kinds[word], start)
        self.pos = start
        raise self.fail(f"expected a line selector (all, sku:, product:, category:, attribute:){self.found()}")

    def action(self) -> Action:
        self.skip_space()
        start = self.pos
        if self.accept_word("free"):
            self.expect_word("shipping")
            return PercentOffShipping(basis_points=FULL)
        if self.accept_word("buy"):
            return self.buy_x_get_y(start)
        if self.accept_word("bundle"):
            self.expect("(")
            components = [self.selector()]
            while self.accept(","):
                components.append(self.selector())
            self.expect(")")
            self.expect_word("for")
            return self.build(lambda: BundlePrice(components=tuple(components), prices=self.amounts()), start)
        number = self.match(DECIMAL, "an action (a percentage, an amount, 'buy', 'bundle' or 'free shipping')")
        if self.accept("%"):
            bp = self.basis_points(number, start)
            self.expect_word("off")
            return self.build(lambda: self.percent_target(bp), start)
        amounts = self.amounts(self.money_of(number, start))
        self.expect_word("off")
        return self.build(lambda: self.amount_target(amounts), start)

    def percent_target(self, bp: int) -> Action:
        if self.accept_word("order"):
            return PercentOffOrder(basis_points=bp)
        if self.accept_word("shipping"):
            return PercentOffShipping(basis_points=bp)
        return PercentOffLines(basis_points=bp, lines=self.lines())

    def amount_target(self, amounts: tuple[Money, ...]) -> Action:
        if self.accept_word("order"):
            return AmountOffOrder(amounts=amounts)
        if self.accept_word("shipping"):
            return AmountOffShipping(amounts=amounts)
        return AmountOffLines(amounts=amounts, lines=self.lines())

    def lines(self) -> Selector:
        if not self.accept_word("lines"):
            raise self.fail(f"expected 'order', 'shipping' or 'lines(...)'{self.found()}")
        self.expect("(")
        selector = self.selector()
        self.expect(")")
        return selector

    def buy_x_get_y(self, start: int) -> Action:
        buy = self.integer()
        self.expect_word("get")
        get = self.integer()
        self.expect_word("at")
        bp = self.percent()
        self.expect_word("off")
        lines = self.lines()
        self.expect_word("cheapest")
        self.expect_word("first")
        limit = self.integer() if self.accept_word("limit") else None
        return self.build(lambda: BuyXGetY(buy=buy, get=get, basis_points=bp, lines=lines, limit=limit), start)


def parse(text: str) -> Rule:
    """Read the text form of a rule; raises ``ParseError`` (with the character position) when it is not one."""
    return _Parser(text).rule()


def parse_condition(text: str) -> Condition:
    parser = _Parser(text)
    condition = parser.condition()
    if not parser.at_end():
        raise parser.fail(f"expected the end of the condition{parser.found()}")
    return condition
