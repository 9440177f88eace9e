"""Payments commands: what a provider tells us (through a verified webhook), and asking it ourselves."""

from __future__ import annotations

from dataclasses import dataclass

from application.messaging.registry import Command
from application.ports.payments import PaymentEvent


@dataclass(frozen=True, slots=True, kw_only=True)
class HandlePaymentEvent(Command[str]):
    """A verified provider event, already translated by the provider's adapter."""

    provider: str  # the key the gateway is configured under
    event: PaymentEvent


@dataclass(frozen=True, slots=True, kw_only=True)
class ReconcilePayments(Command[dict[str, int]]):
    """Ask the provider about orders still waiting on an online payment, and settle them."""

    older_than_seconds: int = 300
    limit: int = 200
