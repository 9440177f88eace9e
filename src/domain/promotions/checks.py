"""The checks every rule value passes, and reading an amount for a currency."""

from __future__ import annotations

from domain.promotions.errors import InvalidRule
from domain.shared.money import Money

FULL = 10_000  # basis points in 100 %


def check_text(value: str, what: str) -> None:
    if not value or value != value.strip():
        raise InvalidRule(f"{what} must be non-empty text without surrounding spaces, got {value!r}")


def check_percent(basis_points: int) -> None:
    if isinstance(basis_points, bool) or not isinstance(basis_points, int) or not 1 <= basis_points <= FULL:
        raise InvalidRule(f"a percentage is 1..10000 basis points (0.01 %..100 %), got {basis_points!r}")


def check_count(value: int, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidRule(f"{what} must be a positive integer, got {value!r}")


def check_amounts(amounts: tuple[Money, ...], what: str, *, allow_zero: bool = False) -> None:
    if not amounts:
        raise InvalidRule(f"{what} needs an amount in at least one currency")
    currencies = [m.currency for m in amounts]
    if len(set(currencies)) != len(currencies):
        raise InvalidRule(f"{what} names a currency twice: {currencies}")
    lowest = 0 if allow_zero else 1
    if any(m.amount < lowest for m in amounts):
        raise InvalidRule(f"{what} must be {'zero or more' if allow_zero else 'positive'}")


def amount_in(amounts: tuple[Money, ...], currency: str) -> int | None:
    """The minor units set for ``currency``, or ``None`` when the rule says nothing about it."""
    for money in amounts:
        if money.currency == currency:
            return money.amount
    return None
