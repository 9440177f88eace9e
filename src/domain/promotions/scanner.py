"""The low-level reading of the rule text form: words, symbols, numbers, money, dates, quoted text."""

from __future__ import annotations

import re
from datetime import datetime

from domain.promotions.errors import ParseError
from domain.shared.money import InvalidCurrency, Money, is_currency

BARE_TEXT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*")  # a name that needs no quotes
_WORD = re.compile(r"[a-z]+")
_NAME_CHAR = re.compile(r"[A-Za-z0-9_]")
DECIMAL = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_CODE = re.compile(r"[A-Z]{3}")
_DATETIME = re.compile(r"[0-9][0-9A-Za-z:+.\-]*")


class Scanner:
    """Reads the rule text character by character; every error knows its exact position."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    # low-level scanning

    def fail(self, message: str, position: int | None = None) -> ParseError:
        return ParseError(message, text=self.text, position=self.pos if position is None else position)

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def at_end(self) -> bool:
        self.skip_space()
        return self.pos >= len(self.text)

    def peek_word(self) -> str:
        """The keyword at the cursor (lower-case letters not followed by a name character), or ``""``."""
        self.skip_space()
        found = _WORD.match(self.text, self.pos)
        if found is None or _NAME_CHAR.match(self.text, found.end()):
            return ""
        return found.group()

    def accept_word(self, word: str) -> bool:
        if self.peek_word() == word:
            self.pos += len(word)
            return True
        return False

    def expect_word(self, word: str) -> None:
        if not self.accept_word(word):
            raise self.fail(f"expected '{word}'{self.found()}")

    def accept(self, symbol: str) -> bool:
        self.skip_space()
        if self.text.startswith(symbol, self.pos):
            self.pos += len(symbol)
            return True
        return False

    def expect(self, symbol: str) -> None:
        if not self.accept(symbol):
            raise self.fail(f"expected '{symbol}'{self.found()}")

    def found(self) -> str:
        self.skip_space()
        if self.pos >= len(self.text):
            return " but the text ended"
        return f" but found {self.text[self.pos : self.pos + 12]!r}"

    def match(self, pattern: re.Pattern[str], what: str) -> str:
        self.skip_space()
        found = pattern.match(self.text, self.pos)
        if found is None:
            raise self.fail(f"expected {what}{self.found()}")
        self.pos = found.end()
        return found.group()

    def integer(self) -> int:
        self.skip_space()
        start = self.pos
        digits = self.match(re.compile(r"[0-9]+"), "a whole number")
        value = int(digits)
        if value < 1:
            raise self.fail("expected a positive whole number", start)
        return value

    def text_value(self) -> str:
        self.skip_space()
        if not self.text.startswith('"', self.pos):
            return self.match(BARE_TEXT, "a name or a quoted string")
        start, chars = self.pos, list[str]()
        self.pos += 1
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == '"':
                self.pos += 1
                return "".join(chars)
            if char == "\\" and self.pos + 1 < len(self.text) and self.text[self.pos + 1] in '\\"':
                self.pos += 1
                char = self.text[self.pos]
            chars.append(char)
            self.pos += 1
        raise self.fail("unterminated quoted string", start)

    def currency(self) -> str:
        code = self.match(_CODE, "a currency code such as EUR")
        if not is_currency(code):
            raise self.fail(f"unsupported currency {code!r}", self.pos - len(code))
        return code

    def percent(self) -> int:
        self.skip_space()
        start = self.pos
        number = self.match(DECIMAL, "a percentage such as 20%")
        self.expect("%")
        return self.basis_points(number, start)

    def basis_points(self, number: str, start: int) -> int:
        whole, _, fraction = number.partition(".")
        if len(fraction) > 2:
            raise self.fail("a percentage has at most two decimals", start)
        return int(whole) * 100 + int(fraction.ljust(2, "0"))

    def money(self) -> Money:
        self.skip_space()
        start = self.pos
        number = self.match(DECIMAL, "an amount such as 10.00")
        return self.money_of(number, start)

    def money_of(self, number: str, start: int) -> Money:
        currency = self.currency()
        try:
            return Money.parse(number, currency)
        except InvalidCurrency as error:
            raise self.fail(str(error), start) from None

    def amounts(self, first: Money | None = None) -> tuple[Money, ...]:
        amounts = [first if first is not None else self.money()]
        while self.accept(","):
            amounts.append(self.money())
        return tuple(amounts)

    def moment(self) -> datetime:
        self.skip_space()
        start = self.pos
        token = self.match(_DATETIME, "an ISO 8601 date-time such as 2026-06-01T00:00:00+00:00")
        try:
            value = datetime.fromisoformat(token)
        except ValueError:
            raise self.fail(f"{token!r} is not an ISO 8601 date-time", start) from None
        if value.utcoffset() is None:
            raise self.fail("a date-time needs a UTC offset (such as +00:00 or Z)", start)
        return value
