"""A reconciliation run: what it expired, what drift it found; drift raises an alert event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.inventory.stock import Drift
from domain.shared.events import Aggregate, DomainEvent


@dataclass(frozen=True, slots=True, kw_only=True)
class InventoryDriftDetected(DomainEvent):
    topic = "inventory.drift_detected.v1"
    items: tuple[Drift, ...]


class ReconciliationRun(Aggregate):
    def __init__(self, *, id: str, ran_at: datetime, expired: int, drift: list[Drift]) -> None:
        self.id = id
        self.ran_at = ran_at
        self.expired = expired
        self.drift = drift
        self.version = 1
        self.events = []
        if drift:
            self._record(
                InventoryDriftDetected(aggregate_id=id, aggregate_version=1, occurred_at=ran_at, items=tuple(drift))
            )
