"""Group commit for reservations.

Requests that arrive while a reservation transaction is in flight wait and then go together
into the next one: one lock per stock row, one commit, a handful of round trips for the whole
group. Each request still succeeds or fails on its own, decided by the aggregate in arrival
order. Correctness stays with PostgreSQL (row locks, CHECK constraints) across processes; the
grouping only removes round trips from the locked section, which is what a hot SKU queues on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from application.inventory.ports import InventoryUnitOfWork
from application.messaging.grouping import Grouped
from application.ports.clock import Clock, IdGenerator
from domain.inventory.reservation import Reservation
from domain.shared.errors import Conflict, DomainError


@dataclass(frozen=True, slots=True)
class _Request:
    reference: str
    requested: dict[str, int]
    ttl: timedelta


class ReservationBatcher:
    def __init__(
        self, uow: Callable[[], InventoryUnitOfWork], clock: Clock, ids: IdGenerator, *, max_batch: int = 128
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._ids = ids
        # A group fails as a whole for one request's sake only on a duplicate checkout that raced
        # in from another process (the store reports it as a Conflict at commit).
        self._groups: Grouped[_Request, str] = Grouped(
            self._transaction, max_group=max_batch, name="reservation group",
            isolate=lambda error: isinstance(error, DomainError),
        )

    @property
    def transactions(self) -> int:
        """How many groups went to PostgreSQL (for benchmarks and metrics)."""
        return self._groups.groups

    async def reserve(self, reference: str, requested: dict[str, int], ttl: timedelta) -> str:
        """The new reservation's id, or the domain error this request alone ran into."""
        return await self._groups.submit(_Request(reference, requested, ttl))

    async def _transaction(self, batch: list[_Request]) -> list[str | BaseException]:
        skus = sorted({sku for request in batch for sku in request.requested})
        outcomes: list[str | BaseException] = []
        placed: list[Reservation] = []
        async with self._uow() as tx:
            ground = await tx.stock.lock_for_placement(skus, [r.reference for r in batch])
            stock, held = ground.stock, set(ground.held)
            now = self._clock.now()
            for request in batch:
                if request.reference in held:
                    outcomes.append(Conflict(f"checkout {request.reference} already holds an active reservation"))
                    continue
                try:
                    reservation = Reservation.place(
                        id=self._ids.new_id(), reference=request.reference, requested=request.requested,
                        stock=stock, policies=ground.policies, now=now, ttl=request.ttl,
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


