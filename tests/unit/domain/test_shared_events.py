"""Domain events: each topic names one class, and an aggregate hands its pending events over once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from domain.orders.order import OrderPaid
from domain.shared.events import Aggregate, DomainEvent, event_type, known_topics

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_every_event_class_is_registered_under_its_topic() -> None:
    assert event_type("orders.order_paid.v1") is OrderPaid
    assert "orders.order_paid.v1" in known_topics()
    assert "" not in known_topics()
    with pytest.raises(KeyError):
        event_type("no.such.topic.v1")


def test_a_second_class_cannot_take_a_topic() -> None:
    with pytest.raises(TypeError, match=r"^duplicate event topic 'orders.order_paid.v1'$"):

        @dataclass(frozen=True, slots=True, kw_only=True)
        class Impostor(DomainEvent):
            topic = "orders.order_paid.v1"

    assert event_type("orders.order_paid.v1") is OrderPaid


def test_an_event_without_a_topic_is_not_registered() -> None:
    before = known_topics()

    @dataclass(frozen=True, slots=True, kw_only=True)
    class Untitled(DomainEvent):
        pass

    assert known_topics() == before


def test_pulling_events_hands_them_over_once() -> None:
    class Thing(Aggregate):
        def __init__(self) -> None:
            self.version = 0
            self.events = []

    thing = Thing()
    first = OrderPaid(aggregate_id="o", aggregate_version=1, occurred_at=T0, customer_id=None, currency="EUR",
                      status="paid", amount=1, payment_reference="pi")
    thing._record(first)
    assert thing.pull_events() == [first]
    assert thing.pull_events() == []


def test_a_new_topic_is_registered_to_its_class() -> None:
    @dataclass(frozen=True, slots=True, kw_only=True)
    class Fresh(DomainEvent):
        topic = "tests.fresh_thing_happened.v1"

    assert event_type("tests.fresh_thing_happened.v1") is Fresh
