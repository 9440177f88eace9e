"""Customer accounts: e-mail and password rules at their limits, the profile and the address book."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.customers.customer import (
    MAX_ADDRESSES,
    MIN_PASSWORD_LENGTH,
    AddressNotFound,
    Customer,
    CustomerError,
    CustomerRegistered,
    PasswordChanged,
    WeakPassword,
    check_password_strength,
    normalise_email,
    with_id,
)
from domain.shared.address import Address, InvalidAddress

T0 = datetime(2026, 4, 1, tzinfo=UTC)
HOME = Address(id="a1", name="Ada", line1="1 Main St", city="Berlin", postal_code="10117", country="DE")
WORK = Address(id="a2", name="Ada", line1="2 Work St", city="Berlin", postal_code="10115", country="DE")
AWAY = Address(id="a3", name="Ada", line1="3 Beach Rd", city="Nice", postal_code="06000", country="FR")


def ada() -> Customer:
    customer = Customer.register(customer_id="cus-1", email=" Ada@Example.COM ", name="  Ada Lovelace ",
                                 password_hash="h1", now=T0)
    customer.pull_events()
    return customer


def test_registering_normalises_email_and_name_and_records_it() -> None:
    customer = Customer.register(customer_id="cus-1", email=" Ada@Example.COM ", name="  Ada Lovelace ",
                                 password_hash="h1", now=T0)
    assert (customer.id, customer.email, customer.name, customer.password_hash) == (
        "cus-1", "ada@example.com", "Ada Lovelace", "h1")
    assert (customer.created_at, customer.version, customer.marketing_opt_in, customer.groups) == (
        T0, 1, False, frozenset())
    assert customer.pull_events() == [CustomerRegistered(aggregate_id="cus-1", aggregate_version=1, occurred_at=T0,
                                                         email="ada@example.com", name="Ada Lovelace")]
    assert CustomerRegistered.topic == "customers.customer_registered.v1"
    assert PasswordChanged.topic == "customers.password_changed.v1"


@pytest.mark.parametrize("name", ["", "   ", "x" * 201])
def test_a_name_is_one_to_two_hundred_characters(name: str) -> None:
    with pytest.raises(CustomerError, match=r"^a name of 1 to 200 characters is required$"):
        Customer.register(customer_id="c", email="a@b.co", name=name, password_hash="h", now=T0)
    customer = ada()
    with pytest.raises(CustomerError, match=r"^a name of 1 to 200 characters is required$"):
        customer.update_profile(name=name)
    assert customer.name == "Ada Lovelace"


def test_a_name_of_exactly_two_hundred_characters_is_fine() -> None:
    customer = Customer.register(customer_id="c", email="a@b.co", name="x" * 200, password_hash="h", now=T0)
    customer.update_profile(name="y" * 200)
    assert customer.name == "y" * 200


@pytest.mark.parametrize(
    ("email", "normalised"),
    [(" A@B.CO ", "a@b.co"), ("x" * 64 + "@example.com", "x" * 64 + "@example.com"),
     ("a@" + "b" * 249 + ".co", "a@" + "b" * 249 + ".co")],
)
def test_valid_emails_are_trimmed_and_lower_cased(email: str, normalised: str) -> None:
    assert normalise_email(email) == normalised


@pytest.mark.parametrize(
    "email",
    ["", "ada", "ada@", "@example.com", "ada@example", "ada@example.c", "a da@example.com", "a@b@example.com",
     "x" * 65 + "@example.com", "a@" + "b" * 250 + ".co"],
)
def test_invalid_emails_are_refused(email: str) -> None:
    with pytest.raises(CustomerError, match=r"^not a valid e-mail address$"):
        normalise_email(email)


def test_password_length_limits_on_both_sides() -> None:
    assert MIN_PASSWORD_LENGTH == 10
    with pytest.raises(WeakPassword, match=r"^a password needs at least 10 characters$"):
        check_password_strength("Abcdefgh1")
    check_password_strength("Abcdefgh12")
    check_password_strength("A" + "b" * 255)
    with pytest.raises(WeakPassword, match=r"^a password has at most 256 characters$"):
        check_password_strength("A" + "b" * 256)


@pytest.mark.parametrize("password", ["1234567890", "abcdefghijk"])
def test_a_password_of_only_digits_or_only_small_letters_is_weak(password: str) -> None:
    with pytest.raises(WeakPassword, match=r"^use letters mixed with digits, capitals or symbols$"):
        check_password_strength(password)


@pytest.mark.parametrize("password", ["abcdefghij1", "Abcdefghijk", "abcdefghij!", "ABCDEFGHIJK"])
def test_a_password_mixing_kinds_of_characters_is_accepted(password: str) -> None:
    check_password_strength(password)


def test_the_profile_changes_only_what_is_given() -> None:
    customer = ada()
    customer.update_profile(marketing_opt_in=True)
    assert (customer.name, customer.marketing_opt_in) == ("Ada Lovelace", True)
    customer.update_profile(name=" Ada King ")
    assert (customer.name, customer.marketing_opt_in) == ("Ada King", True)
    customer.update_profile(marketing_opt_in=False)
    assert customer.marketing_opt_in is False


def test_changing_the_password_stores_the_new_hash_and_tells() -> None:
    customer = ada()
    customer.change_password("h2", now=T0)
    assert customer.password_hash == "h2"
    assert customer.pull_events() == [PasswordChanged(aggregate_id="cus-1", aggregate_version=2, occurred_at=T0)]


def test_the_first_address_becomes_both_defaults_and_later_ones_only_when_asked() -> None:
    customer = ada()
    customer.add_address(HOME)
    assert (customer.default_shipping, customer.default_billing) == ("a1", "a1")
    customer.add_address(WORK)
    assert (customer.default_shipping, customer.default_billing) == ("a1", "a1")
    customer.add_address(AWAY, default_shipping=True)
    assert (customer.default_shipping, customer.default_billing) == ("a3", "a1")
    customer.add_address(with_id(AWAY, "a4"), default_billing=True)
    assert (customer.default_shipping, customer.default_billing) == ("a3", "a4")
    assert [a.id for a in customer.addresses] == ["a1", "a2", "a3", "a4"]


def test_an_address_book_holds_at_most_twenty() -> None:
    customer = ada()
    for i in range(MAX_ADDRESSES):
        customer.add_address(with_id(HOME, f"a{i}"))
    with pytest.raises(CustomerError, match=r"^an address book holds at most 20 addresses$"):
        customer.add_address(with_id(HOME, "over"))
    assert len(customer.addresses) == 20


def test_replacing_an_address_keeps_its_place() -> None:
    customer = ada()
    customer.add_address(HOME)
    customer.add_address(WORK)
    moved = Address(id="a1", name="Ada", line1="9 New St", city="Berlin", postal_code="10117", country="DE")
    customer.replace_address(moved)
    assert customer.addresses == [moved, WORK]
    with pytest.raises(AddressNotFound, match=r"^no address a9$"):
        customer.replace_address(with_id(HOME, "a9"))


def test_removing_a_default_address_falls_back_to_the_first_left() -> None:
    customer = ada()
    customer.add_address(HOME)
    customer.add_address(WORK)
    customer.add_address(AWAY, default_shipping=True, default_billing=False)
    customer.remove_address("a3")
    assert (customer.default_shipping, customer.default_billing) == ("a1", "a1")
    customer.remove_address("a1")
    assert (customer.default_shipping, customer.default_billing) == ("a2", "a2")
    customer.remove_address("a2")
    assert (customer.addresses, customer.default_shipping, customer.default_billing) == ([], None, None)


def test_removing_another_address_keeps_the_defaults() -> None:
    customer = ada()
    customer.add_address(HOME)
    customer.add_address(WORK)
    customer.remove_address("a2")
    assert (customer.default_shipping, customer.default_billing) == ("a1", "a1")
    with pytest.raises(AddressNotFound):
        customer.remove_address("a2")


def test_defaults_are_set_only_to_addresses_in_the_book() -> None:
    customer = ada()
    customer.add_address(HOME)
    customer.add_address(WORK)
    customer.set_defaults(billing="a2")
    assert (customer.default_shipping, customer.default_billing) == ("a1", "a2")
    customer.set_defaults(shipping="a2")
    assert (customer.default_shipping, customer.default_billing) == ("a2", "a2")
    with pytest.raises(AddressNotFound):
        customer.set_defaults(shipping="a9")
    with pytest.raises(AddressNotFound):
        customer.set_defaults(billing="a9")
    assert (customer.default_shipping, customer.default_billing) == ("a2", "a2")
    assert customer.address("a2") == WORK


def test_an_invalid_address_names_each_field() -> None:
    error = InvalidAddress({"postal_code": "is required", "city": "is too long"})
    assert str(error) == "invalid address: city is too long, postal_code is required"
    assert error.errors == {"postal_code": "is required", "city": "is too long"}


def test_every_change_to_an_account_bumps_its_version_once() -> None:
    customer = ada()
    assert customer.version == 1
    customer.update_profile(marketing_opt_in=True)
    customer.change_password("h2", now=T0)
    customer.add_address(HOME)
    customer.add_address(WORK)
    customer.replace_address(HOME)
    customer.set_defaults(shipping="a2")
    customer.remove_address("a2")
    assert customer.version == 8
    with pytest.raises(AddressNotFound):
        customer.remove_address("a2")
    assert customer.version == 8
