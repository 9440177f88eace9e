"""Money as integer minor units of an ISO 4217 currency; rounding happens in one place."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from enum import Enum
from fractions import Fraction

from domain.shared.errors import DomainError

# ISO 4217 minor-unit exponents. Currencies not listed here are refused rather than guessed.
_EXPONENTS: dict[str, int] = {
    "EUR": 2, "USD": 2, "GBP": 2, "CHF": 2, "SEK": 2, "NOK": 2, "DKK": 2, "PLN": 2,
    "CZK": 2, "HUF": 2, "CAD": 2, "AUD": 2, "NZD": 2, "CNY": 2, "INR": 2, "BRL": 2,
    "MXN": 2, "ZAR": 2, "SGD": 2, "HKD": 2, "RON": 2, "TRY": 2, "ILS": 2, "AED": 2,
    "JPY": 0, "KRW": 0, "ISK": 0, "CLP": 0, "VND": 0,
    "BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3,
}


class InvalidCurrency(DomainError):
    """The code is not an ISO 4217 currency we support."""


class CurrencyMismatch(DomainError):
    """Two amounts in different currencies were combined."""


class Rounding(Enum):
    HALF_EVEN = "half_even"  # banker's rounding: the default for accounting
    HALF_UP = "half_up"


def currency_exponent(currency: str) -> int:
    """Number of minor-unit digits of ``currency`` (2 for EUR, 0 for JPY)."""
    try:
        return _EXPONENTS[currency]
    except KeyError:
        raise InvalidCurrency(f"unsupported currency {currency!r}") from None


def is_currency(code: str) -> bool:
    return code in _EXPONENTS


def round_minor(value: Fraction | Decimal | int, rounding: Rounding = Rounding.HALF_EVEN) -> int:
    """The one rounding function: an exact fractional amount of minor units to an integer."""
    if isinstance(value, int):
        return value
    if isinstance(value, Fraction):
        return round_ratio(value.numerator, value.denominator, rounding)
    mode = ROUND_HALF_EVEN if rounding is Rounding.HALF_EVEN else ROUND_HALF_UP
    return int(value.quantize(Decimal(1), rounding=mode))


def round_ratio(numerator: int, denominator: int, rounding: Rounding = Rounding.HALF_EVEN) -> int:
    """``numerator / denominator`` rounded to an integer, exactly, in integer arithmetic (no Fraction
    to normalise, no Decimal with a precision to run out of): what a hot path like tax on every cart
    line calls. A tie goes to the even neighbour, or away from zero with ``HALF_UP``."""
    if denominator <= 0:
        raise ValueError("the denominator must be positive")
    quotient, remainder = divmod(numerator, denominator)  # floor division: 0 <= remainder < denominator
    twice = 2 * remainder
    if twice < denominator:
        return quotient
    if twice > denominator:
        return quotient + 1
    # A tie, quotient + 1/2: the even one of quotient and quotient + 1, or the one away from zero.
    if rounding is Rounding.HALF_EVEN:
        return quotient + quotient % 2
    return quotient + (quotient >= 0)


@dataclass(frozen=True, slots=True)
class Money:
    """An amount of minor units (cents) of one currency."""

    amount: int
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, int):
            raise TypeError("Money.amount must be an int of minor units")
        currency_exponent(self.currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @classmethod
    def parse(cls, text: str, currency: str) -> Money:
        """``Money.parse("12.50", "EUR")`` → 1250 cents; refuses more digits than the currency has."""
        exponent = currency_exponent(currency)
        value = Decimal(text)
        scaled = value.scaleb(exponent)
        if scaled != scaled.to_integral_value():
            raise InvalidCurrency(f"{text} has more than {exponent} decimals for {currency}")
        return cls(int(scaled), currency)

    def _check_same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(f"cannot combine {self.currency} and {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._check_same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._check_same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._check_same_currency(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._check_same_currency(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._check_same_currency(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._check_same_currency(other)
        return self.amount >= other.amount

    def times(self, quantity: int) -> Money:
        return Money(self.amount * quantity, self.currency)

    def scaled(self, factor: Fraction, rounding: Rounding = Rounding.HALF_EVEN) -> Money:
        """Multiply by an exact fraction (a percentage, a tax rate) and round once."""
        return Money(round_minor(Fraction(self.amount) * factor, rounding), self.currency)

    def allocate(self, weights: list[int]) -> list[Money]:
        """Split into parts proportional to ``weights`` that add up exactly to this amount."""
        total = sum(weights)
        if total <= 0:
            raise ValueError("weights must add up to a positive number")
        parts = [self.amount * w // total for w in weights]
        remainder = self.amount - sum(parts)
        order = sorted(range(len(weights)), key=lambda i: -((self.amount * weights[i]) % total))
        for i in order[:remainder]:
            parts[i] += 1
        return [Money(p, self.currency) for p in parts]

    @property
    def is_negative(self) -> bool:
        return self.amount < 0

    def decimal(self) -> Decimal:
        return Decimal(self.amount).scaleb(-currency_exponent(self.currency))

    def display(self, locale: str = "en") -> str:
        """A human string such as ``€12.50`` / ``12,50 €``; a simple built-in formatter."""
        symbol = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥"}.get(self.currency, self.currency + " ")
        exponent = currency_exponent(self.currency)
        sign = "-" if self.amount < 0 else ""
        body = f"{abs(self.decimal()):,.{exponent}f}"
        if locale.split("-")[0].lower() in {"de", "fr", "es", "it", "nl", "pt"}:
            body = body.replace(",", "\u202f").replace(".", ",")
            return f"{sign}{body}\u00a0{symbol.strip()}"
        return f"{sign}{symbol}{body}"
