"""Encoding of domain events for the outbox and the broker: JSON-ready builtins via msgspec."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

from domain.shared.events import DomainEvent, event_type

T = TypeVar("T")


def event_to_builtins(event: DomainEvent) -> dict[str, Any]:
    data: dict[str, Any] = msgspec.to_builtins(event)
    return data


def event_from_builtins(topic: str, data: dict[str, Any]) -> DomainEvent:
    """Rebuild the event of ``topic``; unknown fields from newer writers are ignored."""
    event: DomainEvent = msgspec.convert(data, event_type(topic), strict=False)
    return event


def aggregate_to_builtins(aggregate: object) -> dict[str, Any]:
    """A dataclass aggregate as JSON-ready builtins, without its pending events."""
    data: dict[str, Any] = msgspec.to_builtins(aggregate)
    data.pop("events", None)
    return data


def aggregate_from_builtins(data: dict[str, Any], kind: type[T]) -> T:
    return msgspec.convert(data, kind)
