"""The RegionalTaxRates contract (``RegionalTaxRatesContract``) on the in-memory fake and PostgreSQL: the
seeded US states, a rate put (and put again) and removed. Each test takes states no other test uses."""

from __future__ import annotations

import pytest

from adapters.memory.tax import MemoryRegionalTaxRates
from adapters.postgres.tax import PostgresRegionalTaxRates
from domain.tax.rates import SEEDED_US_STATES, state_rate


class RegionalTaxRatesContract:
    """What every RegionalTaxRates does alike. A subclass provides ``rates``: a store of its kind."""

    @pytest.fixture
    def rates(self):
        raise NotImplementedError("a subclass provides the adapter under test")

    async def test_it_starts_with_the_seeded_states(self, rates) -> None:
        kept = {(r.country, r.region): r for r in await rates.rates()}
        for seeded in SEEDED_US_STATES:
            assert kept[(seeded.country, seeded.region)] == seeded

    async def test_a_rate_put_replaces_the_one_kept_there_and_removing_forgets_it(self, rates) -> None:
        await rates.put(state_rate("OR", 0))
        await rates.put(state_rate("MT", 100, "Montana"))
        await rates.put(state_rate("MT", 0, "Montana: none"))
        kept = [r for r in await rates.rates() if r.region in ("OR", "MT")]
        assert kept == [state_rate("MT", 0, "Montana: none"), state_rate("OR", 0)]  # ordered by state
        assert await rates.remove("US", "MT") is True
        assert await rates.remove("US", "MT") is False
        assert await rates.remove("US", "OR") is True
        assert {r.region for r in await rates.rates()} >= {"CA", "NY", "TX", "WA"}
        assert not {r.region for r in await rates.rates()} & {"OR", "MT"}


class TestMemoryRegionalTaxRates(RegionalTaxRatesContract):
    @pytest.fixture
    def rates(self):
        return MemoryRegionalTaxRates()


class TestPostgresRegionalTaxRates(RegionalTaxRatesContract):
    @pytest.fixture
    def rates(self, engine):
        return PostgresRegionalTaxRates(engine)
