"""The unit of work: one transaction, the repositories that share it, and the outbox.

Each bounded context declares the slice it needs (``CatalogUnitOfWork`` …) by extending
this protocol; one concrete unit of work per adapter satisfies them all structurally.
"""

from __future__ import annotations

from types import TracebackType
from typing import Protocol, Self

from domain.shared.events import DomainEvent


class ProcessedEvents(Protocol):
    async def mark(self, consumer: str, event_id: str) -> bool:
        """Record that ``consumer`` handled ``event_id``; False when it already had."""
        ...

    async def mark_many(self, consumer: str, event_ids: list[str]) -> set[str]:
        """Record that ``consumer`` handled these events; returns the ids it had not handled before."""
        ...


class UnitOfWork(Protocol):
    """One transaction. Events of every aggregate seen by a repository are written to the
    outbox by ``commit``, in the same transaction as the change that caused them.
    Leaving the block without ``commit`` rolls back.

    Optimistic saves: each repository remembers the version of every aggregate it loaded or
    added in this unit of work. ``save(aggregate)`` writes it only if its version moved since,
    and only where the stored version is still the remembered one (``ConcurrencyConflict``
    otherwise: someone else saved it meanwhile); then it remembers the new version, so a
    second change in the same unit of work saves too. Saving an aggregate the unit of work
    never loaded raises ``NotLoaded``. ``application.messaging.retry.retry_on_conflict`` runs
    a whole transaction again after a conflict."""

    processed: ProcessedEvents

    def record(self, event: DomainEvent) -> None:
        """Write ``event`` to the outbox with this transaction (for consumers that produce events)."""
        ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...
