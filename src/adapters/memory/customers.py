"""Fakes for sessions and notifications."""

from __future__ import annotations

import copy
import logging
import secrets
from datetime import datetime
from typing import Any

from adapters.memory.versions import MemoryVersions
from application.ports.notifier import Notification
from domain.customers.customer import Customer, CustomerNotFound, EmailTaken
from domain.shared.events import Aggregate

logger = logging.getLogger(__name__)


class MemorySessionStore:
    def __init__(self) -> None:
        self.sessions: dict[str, str] = {}

    async def create(self, customer_id: str, *, ttl_seconds: int) -> str:
        token = secrets.token_urlsafe(32)
        self.sessions[token] = customer_id
        return token

    async def customer_of(self, token: str, *, ttl_seconds: int) -> str | None:
        return self.sessions.get(token)

    async def revoke(self, token: str) -> None:
        self.sessions.pop(token, None)

    async def revoke_all(self, customer_id: str) -> None:
        self.sessions = {t: c for t, c in self.sessions.items() if c != customer_id}


class MemoryNotifier:
    """Keeps what was sent; a notification with a key already sent is dropped (as SMTP's log does)."""

    def __init__(self) -> None:
        self.sent: list[Notification] = []

    async def send(self, notification: Notification) -> None:
        if notification.key and any(n.key == notification.key for n in self.sent):
            return
        self.sent.append(notification)


class MemorySentNotifications:
    """The sent log of ``OnceNotifier``, in a set."""

    def __init__(self) -> None:
        self.keys: dict[str, str] = {}

    async def was_sent(self, key: str) -> bool:
        return key in self.keys

    async def record(self, key: str, *, to: str, template: str, at: datetime) -> None:
        self.keys.setdefault(key, to)


class MemoryCustomers:
    def __init__(self, data: dict[str, Any], seen: list[Aggregate], versions: MemoryVersions) -> None:
        self._rows: dict[str, Customer] = data.setdefault("customers", {})
        self._seen = seen
        self._versions = versions

    async def add(self, customer: Customer) -> None:
        if any(c.email == customer.email for c in self._rows.values()):
            raise EmailTaken("an account with this e-mail exists")
        self._rows[customer.id] = copy.deepcopy(customer)
        self._seen.append(customer)
        self._versions.remember("customer", customer.id, customer.version)

    async def get(self, customer_id: str) -> Customer:
        try:
            customer = copy.deepcopy(self._rows[customer_id])
        except KeyError:
            raise CustomerNotFound(customer_id) from None
        customer.events = []  # events staged with the stored copy were written at its commit
        self._seen.append(customer)
        self._versions.remember("customer", customer.id, customer.version)
        return customer

    async def by_email(self, email: str) -> Customer | None:
        for customer in self._rows.values():
            if customer.email == email:
                return await self.get(customer.id)
        return None

    async def save(self, customer: Customer) -> None:
        stored = self._versions.database.extra.get("customers", {}).get(customer.id)
        if not self._versions.changed("customer", customer.id, customer.version,
                                      stored=None if stored is None else stored.version):
            return  # unchanged since it was loaded
        self._rows[customer.id] = copy.deepcopy(customer)
        self._versions.saved("customer", customer.id, customer.version)


class MemoryPasswordResets:
    def __init__(self, data: dict[str, Any]) -> None:
        self._rows: dict[str, dict[str, Any]] = data.setdefault("password_resets", {})

    async def add(self, *, token_hash: str, customer_id: str, expires_at: datetime) -> None:
        self._rows[token_hash] = {"customer_id": customer_id, "expires_at": expires_at, "used_at": None}

    async def consume(self, token_hash: str, *, now: datetime) -> str | None:
        row = self._rows.get(token_hash)
        if row is None or row["used_at"] is not None or row["expires_at"] <= now:
            return None
        row["used_at"] = now
        return str(row["customer_id"])
