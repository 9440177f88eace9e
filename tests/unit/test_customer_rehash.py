"""A stronger hash of the same password replaces the old one only if nothing else changed it."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.customers.customer import Customer

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def _ada() -> Customer:
    customer = Customer.register(customer_id="c1", email="ada@example.com", name="Ada", password_hash="old",
                                 now=NOW)
    customer.events.clear()
    return customer


def test_a_rehash_replaces_the_hash_it_was_computed_from_and_bumps_the_version() -> None:
    customer = _ada()
    assert customer.rehash_password(was="old", now_hash="stronger") is True
    assert (customer.password_hash, customer.version, customer.events) == ("stronger", 2, [])


def test_a_rehash_of_a_hash_replaced_meanwhile_changes_nothing() -> None:
    customer = _ada()
    assert customer.rehash_password(was="other", now_hash="stronger") is False
    assert (customer.password_hash, customer.version) == ("old", 1)
