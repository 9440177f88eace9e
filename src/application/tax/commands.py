from __future__ import annotations

from dataclasses import dataclass

from application.messaging.registry import Command
from domain.tax.rates import TaxRate


@dataclass(frozen=True, slots=True, kw_only=True)
class ListStateTaxRates(Command[list[TaxRate]]):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class SetStateTaxRate(Command[TaxRate]):
    """The sales tax of one US state (its standard rate: every tax class but zero and exempt pays it)."""

    state: str
    basis_points: int
    name: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoveStateTaxRate(Command[None]):
    state: str
