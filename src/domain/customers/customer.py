"""Customer accounts: identity by e-mail, a password hash (never the password), profile, address book."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime

from domain.shared.address import Address
from domain.shared.errors import Conflict, DomainError, InvalidInput, NotFound
from domain.shared.events import Aggregate, DomainEvent

MAX_ADDRESSES = 20
MIN_PASSWORD_LENGTH = 10
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


class CustomerError(InvalidInput):
    pass


class EmailTaken(Conflict):
    """An account with this e-mail exists."""


class InvalidCredentials(DomainError):
    """Unknown e-mail or wrong password (deliberately not saying which)."""


class WeakPassword(CustomerError):
    pass


class CustomerNotFound(NotFound):
    pass


class AddressNotFound(NotFound):
    pass


class InvalidResetToken(DomainError):
    """The reset token is unknown, used or expired."""


def normalise_email(email: str) -> str:
    cleaned = email.strip().lower()
    if len(cleaned) > 254 or not _EMAIL.match(cleaned):
        raise CustomerError("not a valid e-mail address")
    return cleaned


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > 256:
        raise WeakPassword("a password has at most 256 characters")
    if password.isdigit() or (password.isalpha() and password.lower() == password):
        raise WeakPassword("use letters mixed with digits, capitals or symbols")


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomerRegistered(DomainEvent):
    topic = "customers.customer_registered.v1"
    email: str
    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PasswordChanged(DomainEvent):
    topic = "customers.password_changed.v1"


@dataclass(kw_only=True)
class Customer(Aggregate):
    id: str
    email: str
    name: str
    password_hash: str
    created_at: datetime
    groups: frozenset[str] = frozenset()
    addresses: list[Address] = field(default_factory=list)
    default_shipping: str | None = None
    default_billing: str | None = None
    marketing_opt_in: bool = False
    version: int = 0
    events: list[DomainEvent] = field(default_factory=list, repr=False)

    @classmethod
    def register(cls, *, customer_id: str, email: str, name: str, password_hash: str, now: datetime) -> Customer:
        name = name.strip()
        if not name or len(name) > 200:
            raise CustomerError("a name of 1 to 200 characters is required")
        customer = cls(id=customer_id, email=normalise_email(email), name=name, password_hash=password_hash,
                       created_at=now, version=1)
        customer._record(CustomerRegistered(
            aggregate_id=customer_id, aggregate_version=1, occurred_at=now, email=customer.email, name=name,
        ))
        return customer

    def update_profile(self, *, name: str | None = None, marketing_opt_in: bool | None = None) -> None:
        if name is not None:
            name = name.strip()
            if not name or len(name) > 200:
                raise CustomerError("a name of 1 to 200 characters is required")
            self.name = name
        if marketing_opt_in is not None:
            self.marketing_opt_in = marketing_opt_in
        self.version += 1

    def change_password(self, password_hash: str, *, now: datetime) -> None:
        self.password_hash = password_hash
        self.version += 1
        self._record(PasswordChanged(aggregate_id=self.id, aggregate_version=self.version, occurred_at=now))

    def rehash_password(self, *, was: str, now_hash: str) -> bool:
        """Store a stronger hash of the same password (no event: nothing changed for the customer).
        False, and no change, when the hash is no longer ``was`` (a reset replaced it meanwhile)."""
        if self.password_hash != was:
            return False
        self.password_hash = now_hash
        self.version += 1
        return True

    def address(self, address_id: str) -> Address:
        for address in self.addresses:
            if address.id == address_id:
                return address
        raise AddressNotFound(f"no address {address_id}")

    def add_address(self, address: Address, *, default_shipping: bool = False, default_billing: bool = False) -> None:
        if len(self.addresses) >= MAX_ADDRESSES:
            raise CustomerError(f"an address book holds at most {MAX_ADDRESSES} addresses")
        self.addresses.append(address)
        if default_shipping or self.default_shipping is None:
            self.default_shipping = address.id
        if default_billing or self.default_billing is None:
            self.default_billing = address.id
        self.version += 1

    def replace_address(self, address: Address) -> None:
        self.address(address.id)
        self.addresses = [address if a.id == address.id else a for a in self.addresses]
        self.version += 1

    def remove_address(self, address_id: str) -> None:
        self.address(address_id)
        self.addresses = [a for a in self.addresses if a.id != address_id]
        first = self.addresses[0].id if self.addresses else None
        if self.default_shipping == address_id:
            self.default_shipping = first
        if self.default_billing == address_id:
            self.default_billing = first
        self.version += 1

    def set_defaults(self, *, shipping: str | None = None, billing: str | None = None) -> None:
        if shipping is not None:
            self.address(shipping)
            self.default_shipping = shipping
        if billing is not None:
            self.address(billing)
            self.default_billing = billing
        self.version += 1


def with_id(address: Address, address_id: str) -> Address:
    return replace(address, id=address_id)
