from __future__ import annotations

from datetime import datetime
from typing import Protocol

from application.ports.unit_of_work import UnitOfWork
from domain.customers.customer import Customer


class CustomerRepository(Protocol):
    async def add(self, customer: Customer) -> None:
        """Stage a new customer; an e-mail already registered is ``EmailTaken``."""
        ...

    async def get(self, customer_id: str) -> Customer:
        """The customer, or ``CustomerNotFound``."""
        ...

    async def by_email(self, email: str) -> Customer | None: ...

    async def save(self, customer: Customer) -> None:
        """Write the changed customer unless it changed since it was loaded (``ConcurrencyConflict``)."""
        ...


class PasswordResets(Protocol):
    async def add(self, *, token_hash: str, customer_id: str, expires_at: datetime) -> None: ...

    async def consume(self, token_hash: str, *, now: datetime) -> str | None:
        """Mark the token used and return its customer, once; None if unknown, used or expired."""
        ...


class CustomerUnitOfWork(UnitOfWork, Protocol):
    customers: CustomerRepository
    password_resets: PasswordResets


class PasswordHasher(Protocol):
    """Slow on purpose (CPU-bound): ``hash`` and ``verify`` run off the event loop, in a bounded pool."""

    async def hash(self, password: str) -> str: ...

    async def verify(self, password_hash: str, password: str) -> bool: ...

    def needs_rehash(self, password_hash: str) -> bool:
        """Whether the hash was made with other parameters (cheap: it only parses them)."""
        ...


class SessionStore(Protocol):
    """Server-side sessions: the cookie holds only an opaque token."""

    async def create(self, customer_id: str, *, ttl_seconds: int) -> str:
        """A new session; the returned token is shown to the client once."""
        ...

    async def customer_of(self, token: str, *, ttl_seconds: int) -> str | None:
        """The signed-in customer (sliding the expiry), or None."""
        ...

    async def revoke(self, token: str) -> None: ...

    async def revoke_all(self, customer_id: str) -> None:
        """End every session of the customer (after a password reset)."""
        ...
