"""Group commit for reservations: placing them, and closing them (commit, release, ship, return).

Requests that arrive while a reservation transaction is in flight wait and then go together
into the next one: one lock per stock row, one commit, a handful of round trips for the whole
group. Each request still succeeds or fails on its own, decided by the aggregate in arrival
order. Correctness stays with PostgreSQL (row locks, CHECK constraints) across processes; the
grouping only removes round trips from the locked section, which is what a hot SKU queues on.

Why it matters on a busy server: the stock row stays locked from the answer to ``SELECT … FOR
UPDATE`` until the COMMIT is sent, and in between the transaction's coroutine waits its turn on an
event loop shared with every other request. Under load that turn costs tens of milliseconds; a
transaction per buyer then serialises the sale on that wait. A group pays it once for everyone
who arrived meanwhile.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from application.inventory.ports import InventoryUnitOfWork, StockKey
from application.messaging.grouping import Grouped
from application.ports.clock import Clock, IdGenerator
from domain.inventory.errors import PurchaseLimitReached, ReservationNotFound
from domain.inventory.limits import Cap, over, refusal_of
from domain.inventory.reservation import Reservation, ReservationStatus
from domain.inventory.stock import StockItem
from domain.shared.errors import Conflict, DomainError

# How a reservation is closed: the domain call on it and its locked stock rows; True if it did it.
Close = Callable[[Reservation, dict[StockKey, StockItem]], bool]
# What the caller writes with its new reservation, in the group's transaction: it gets the unit of
# work (the composition's, every repository on it) and the reservation's id. It runs under the stock
# locks, so it only stages writes (no reads, no waiting); a domain error it raises refuses that
# request alone (the group is rolled back and its requests run one by one — so it may run twice).
Then = Callable[[Any, str], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Closed:
    done: bool  # this call closed it (False: it was already closed that way)
    changed: list[str]  # SKUs whose availability this close moved: their gate counters need correcting


@dataclass(frozen=True, slots=True)
class _Request:
    reference: str
    requested: dict[str, int]
    ttl: timedelta
    then: Then | None
    caps: tuple[Cap, ...] = ()  # what one buyer may hold of these SKUs, checked under the stock locks
    replaces: str | None = None  # the caller's previous hold, given back once this one is placed


@dataclass(frozen=True, slots=True)
class _Closing:
    reservation_id: str
    close: Close
    already: frozenset[ReservationStatus]  # closed this way before: answered False, nothing locked twice
    then: Then | None  # what the caller writes with the close (the order that sells the held units)


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
        # A domain refusal in a closing group (a reservation not found, closed another way) rolls the
        # group back — the aggregates may have changed half-way — and its requests go one by one.
        self._closings: Grouped[_Closing, Closed] = Grouped(
            self._close_group, max_group=max_batch, name="closing group",
            isolate=lambda error: isinstance(error, DomainError),
        )

    @property
    def transactions(self) -> int:
        """How many placing groups went to PostgreSQL (for benchmarks and metrics)."""
        return self._groups.groups

    @property
    def closing_transactions(self) -> int:
        """How many closing groups went to PostgreSQL."""
        return self._closings.groups

    async def reserve(
        self, reference: str, requested: dict[str, int], ttl: timedelta, *, then: Then | None = None,
        caps: tuple[Cap, ...] = (), replaces: str | None = None,
    ) -> str:
        """The new reservation's id, or the domain error this request alone ran into. ``then``: what
        the caller writes with it, committed in the same transaction (or not at all). ``caps``: what
        one buyer may hold of the requested SKUs (``PurchaseLimitReached`` past one of them), not
        counting ``replaces`` — the caller's previous hold, which it gives back once this one stands."""
        return await self._groups.submit(_Request(reference, requested, ttl, then, caps, replaces))

    async def _transaction(self, batch: list[_Request]) -> list[str | BaseException]:
        skus = sorted({sku for request in batch for sku in request.requested})
        outcomes: list[str | BaseException] = []
        placed: list[Reservation] = []
        async with self._uow() as tx:
            ground = await tx.stock.lock_for_placement(skus, [r.reference for r in batch])
            stock, held = ground.stock, set(ground.held)
            # Under the stock locks: a buyer's other checkouts holding these SKUs wait for this group.
            capped = {(cap.sku, cap.buyer) for request in batch for cap in request.caps}
            holding = await tx.holdings.held(capped) if capped else {}
            takes: list[tuple[str, list[tuple[Cap, int]]]] = []
            now = self._clock.now()
            for request in batch:
                if request.reference in held:
                    outcomes.append(Conflict(f"checkout {request.reference} already holds an active reservation"))
                    continue
                counted = holding
                if request.caps and request.replaces is not None:
                    counted = dict(holding)
                    for cap, units in await tx.holdings.caps_of(request.replaces):
                        pair = (cap.sku, cap.buyer)
                        if pair in counted:
                            counted[pair] -= units
                broken = over(request.caps, request.requested, counted)
                if broken:
                    outcomes.append(PurchaseLimitReached(*refusal_of(broken)))
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
                if request.caps:
                    for cap in request.caps:
                        pair = (cap.sku, cap.buyer)
                        holding[pair] = holding.get(pair, 0) + request.requested[cap.sku]
                    takes.append((reservation.id, [(cap, request.requested[cap.sku]) for cap in request.caps]))
            if placed:
                for request, outcome in zip(batch, outcomes, strict=True):
                    if request.then is not None and isinstance(outcome, str):
                        await request.then(tx, outcome)
                await tx.stock.save(item for items in stock.values() for item in items)
                await tx.reservations.add_many(placed)
                for reservation_id, rows in takes:
                    await tx.holdings.add(reservation_id, rows)
                await tx.commit()
        return outcomes

    async def close(
        self, reservation_id: str, close: Close, *, already: frozenset[ReservationStatus] = frozenset(),
        then: Then | None = None,
    ) -> Closed:
        """Close one reservation with ``close`` in the next closing group. A reservation already
        closed one of the ways in ``already`` (a repeated commit, an outbox consumer after the
        request did it) is answered ``done=False`` and changes nothing. ``then``: what the caller
        writes with it, in the same transaction (or not at all) — whether this call closed it or
        found it closed that way already; not when the close is refused. A close that takes the
        units of a lapsed hold again is refused (``PurchaseLimitReached``) if the buyer's other holds
        now leave no room under the caps the hold was placed with."""
        return await self._closings.submit(_Closing(reservation_id, close, already, then))

    async def _close_group(self, batch: list[_Closing]) -> list[Closed | BaseException]:
        async with self._uow() as tx:
            unless: dict[str, frozenset[ReservationStatus]] = {}
            for request in batch:  # a reservation asked for twice: its rows unless both may skip them
                seen = unless.get(request.reservation_id)
                unless[request.reservation_id] = request.already if seen is None else seen & request.already
            closing = await tx.stock.lock_for_closing(unless)
            stock = closing.stock
            outcomes: list[Closed | BaseException] = []
            closed: dict[str, Reservation] = {}
            staged = False
            for request in batch:
                reservation = closing.reservations.get(request.reservation_id)
                if reservation is None:
                    raise ReservationNotFound(request.reservation_id)
                if reservation.status in request.already:
                    outcomes.append(Closed(done=False, changed=[]))
                else:
                    keys = reservation.stock_keys()
                    before = {key: stock[key].available for key in keys if key in stock}
                    lapsed = reservation.status in LAPSED
                    done = request.close(reservation, stock)
                    if done and lapsed and reservation.status in COUNTING:  # its units taken again
                        await _check_caps_again(tx, reservation.id)
                    if done:
                        closed[reservation.id] = reservation
                    moved = sorted({key[0] for key, available in before.items()
                                    if stock[key].available != available})
                    outcomes.append(Closed(done=done, changed=moved if done else []))
                if request.then is not None:
                    await request.then(tx, reservation.id)
                    staged = True
            if closed or staged:
                await tx.stock.save(stock.values())
                for reservation in closed.values():
                    await tx.reservations.save(reservation)
                await tx.commit()
        return outcomes


LAPSED = frozenset({ReservationStatus.EXPIRED, ReservationStatus.RELEASED})  # holds that no longer count
COUNTING = frozenset({ReservationStatus.ACTIVE, ReservationStatus.COMMITTED, ReservationStatus.SHIPPED})


async def _check_caps_again(tx: InventoryUnitOfWork, reservation_id: str) -> None:
    """A lapsed hold was taken again: the caps it was placed with must still hold, counting what the
    buyer holds elsewhere now (the group is rolled back otherwise)."""
    taken = await tx.holdings.caps_of(reservation_id)
    if not taken:
        return
    holding = await tx.holdings.held({(cap.sku, cap.buyer) for cap, _ in taken}, excluding=reservation_id)
    requested = {cap.sku: units for cap, units in taken}
    broken = over([cap for cap, _ in taken], requested, holding)
    if broken:
        raise PurchaseLimitReached(*refusal_of(broken))
