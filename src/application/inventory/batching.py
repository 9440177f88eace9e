"""Group commit for reservations.

Requests that arrive while a reservation transaction is in flight wait and then go together
into the next one: one lock per stock row, one commit, a handful of round trips for the whole
group. Each request still succeeds or fails on its own, decided by the aggregate in arrival
order. Correctness stays with PostgreSQL (row locks, CHECK constraints) across processes; the
grouping only removes round trips from the locked section, which is what a hot SKU queues on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from application.inventory.ports import InventoryUnitOfWork
from application.ports.clock import Clock, IdGenerator
from domain.inventory.reservation import Reservation
from domain.shared.errors import Conflict, DomainError

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class _Request:
    reference: str
    requested: dict[str, int]
    ttl: timedelta
    outcome: asyncio.Future[str] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class ReservationBatcher:
    def __init__(
        self, uow: Callable[[], InventoryUnitOfWork], clock: Clock, ids: IdGenerator, *, max_batch: int = 128
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._ids = ids
        self._max_batch = max_batch
        self._pending: list[_Request] = []
        self._draining: asyncio.Task[None] | None = None
        self.transactions = 0  # how many groups went to PostgreSQL (for benchmarks and metrics)

    async def reserve(self, reference: str, requested: dict[str, int], ttl: timedelta) -> str:
        """The new reservation's id, or the domain error this request alone ran into."""
        request = _Request(reference, requested, ttl)
        self._pending.append(request)
        if self._draining is None or self._draining.done():
            self._draining = asyncio.create_task(self._drain())
        return await request.outcome

    async def _drain(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[: self._max_batch], self._pending[self._max_batch :]
            outcomes = await self._settle(batch)
            if len(batch) > 1 and all(isinstance(o, _GroupFailed) for o in outcomes):
                # Something unexpected (a racing duplicate, a lost connection): isolate the
                # culprit by running every request of the group on its own.
                logger.warning("reservation group of %d failed; retrying one by one", len(batch))
                outcomes = [o for request in batch for o in await self._settle([request])]
            for request, outcome in zip(batch, outcomes, strict=True):
                if request.outcome.done():
                    continue  # the caller went away; a placed hold simply expires
                if isinstance(outcome, _GroupFailed):
                    request.outcome.set_exception(outcome.error)
                elif isinstance(outcome, BaseException):
                    request.outcome.set_exception(outcome)
                else:
                    request.outcome.set_result(outcome)

    async def _settle(self, batch: list[_Request]) -> list[str | BaseException]:
        try:
            return await self._transaction(batch)
        except Exception as error:  # noqa: BLE001 - every request of the group is told
            return [_GroupFailed(error)] * len(batch)

    async def _transaction(self, batch: list[_Request]) -> list[str | BaseException]:
        skus = sorted({sku for request in batch for sku in request.requested})
        outcomes: list[str | BaseException] = []
        placed: list[Reservation] = []
        self.transactions += 1
        async with self._uow() as tx:
            policies = await tx.stock.policies(skus)
            stock = await tx.stock.lock(skus)
            held = await tx.reservations.active_references([r.reference for r in batch])
            now = self._clock.now()
            for request in batch:
                if request.reference in held:
                    outcomes.append(Conflict(f"checkout {request.reference} already holds an active reservation"))
                    continue
                try:
                    reservation = Reservation.place(
                        id=self._ids.new_id(), reference=request.reference, requested=request.requested,
                        stock=stock, policies=policies, now=now, ttl=request.ttl,
                    )
                except DomainError as error:
                    outcomes.append(error)
                    continue
                held.add(request.reference)
                placed.append(reservation)
                outcomes.append(reservation.id)
            if placed:
                await tx.stock.save(item for items in stock.values() for item in items)
                await tx.reservations.add_many(placed)
                await tx.commit()
        return outcomes



class _GroupFailed(Exception):
    """The group's transaction failed as a whole (not a per-request business refusal)."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error
