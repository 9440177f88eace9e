"""Domain events: immutable facts, each with a stable versioned topic."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

_REGISTRY: dict[str, type[DomainEvent]] = {}


@dataclass(frozen=True, slots=True, kw_only=True)
class DomainEvent:
    """Base of every domain event. Subclasses set ``topic`` like ``"catalog.product_created.v1"``."""

    topic: ClassVar[str] = ""
    aggregate_id: str
    aggregate_version: int
    occurred_at: datetime

    def __init_subclass__(cls) -> None:
        # No super() call: ``dataclass(slots=True)`` rebuilds the class, which breaks the
        # zero-argument form; the rebuilt class re-registers here and replaces the draft. While it is
        # being rebuilt its ``__qualname__`` is only its name (dataclasses restores it afterwards), so
        # the draft and the rebuilt class are matched by module and name.
        topic = cls.__dict__.get("topic", "")
        if topic:
            previous = _REGISTRY.get(topic)
            if previous is not None and (previous.__module__, previous.__name__) != (cls.__module__, cls.__name__):
                raise TypeError(f"duplicate event topic {topic!r}")
            _REGISTRY[topic] = cls


def event_type(topic: str) -> type[DomainEvent]:
    """The event class registered under ``topic``."""
    return _REGISTRY[topic]


def known_topics() -> frozenset[str]:
    return frozenset(_REGISTRY)


class Aggregate:
    """Mixin for aggregates: a version for optimistic saves and a list of pending events. The
    aggregate's own methods bump ``version`` (once per change); handlers and repositories never set it."""

    version: int
    events: list[DomainEvent]

    def _record(self, event: DomainEvent) -> None:
        self.events.append(event)

    def pull_events(self) -> list[DomainEvent]:
        pending, self.events = self.events, []
        return pending
