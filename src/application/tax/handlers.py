"""Staff keep the US states' sales tax (European VAT comes from the pinned data package, not from here)."""

from __future__ import annotations

from application.messaging.registry import handler
from application.tax.commands import ListStateTaxRates, RemoveStateTaxRate, SetStateTaxRate
from application.tax.ports import RegionalTaxRates
from domain.tax.rates import TaxRate, TaxRateNotFound, state_rate


@handler
async def list_state_tax_rates(query: ListStateTaxRates, *, regional_rates: RegionalTaxRates) -> list[TaxRate]:
    return await regional_rates.rates()


@handler
async def set_state_tax_rate(command: SetStateTaxRate, *, regional_rates: RegionalTaxRates) -> TaxRate:
    rate = state_rate(command.state, command.basis_points, command.name)
    await regional_rates.put(rate)
    return rate


@handler
async def remove_state_tax_rate(command: RemoveStateTaxRate, *, regional_rates: RegionalTaxRates) -> None:
    if not await regional_rates.remove("US", command.state):
        raise TaxRateNotFound(f"no sales tax is kept for US-{command.state}")
