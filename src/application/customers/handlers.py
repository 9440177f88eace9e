"""Customer accounts: register, sign in and out, profile, address book, password reset."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from application.customers.ports import CustomerUnitOfWork, PasswordHasher, SessionStore
from application.customers.throttle import (
    AuthLimits,
    admit_reset,
    admit_sign_in,
    admit_sign_up,
    reset_email_allowed,
    signed_in,
)
from application.messaging.registry import Command, handler
from application.ports.addresses import AddressValidator
from application.ports.clock import Clock, IdGenerator
from application.ports.notifier import Notification, Notifier
from application.ports.rate_limit import RateLimiter
from domain.customers.customer import (
    Customer,
    InvalidCredentials,
    InvalidResetToken,
    check_password_strength,
    normalise_email,
)
from domain.shared.address import Address
from domain.shared.errors import DomainError

Uow = Callable[[], CustomerUnitOfWork]

SESSION_TTL = 14 * 24 * 3600
RESET_TTL = timedelta(hours=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class RegisterCustomer(Command[Customer]):
    email: str
    password: str
    name: str
    marketing_opt_in: bool = False
    client_ip: str = ""  # the HTTP layer always says; empty (seeding, tests): limited per e-mail only


@dataclass(frozen=True, slots=True, kw_only=True)
class SignIn(Command["SignedIn"]):
    email: str
    password: str
    client_ip: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SignedIn:
    customer_id: str
    token: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SignOut(Command[None]):
    token: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CurrentCustomer(Command[str | None]):
    """A query: whose session is this token (sliding its expiry)?"""

    token: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class GetProfile(Command[Customer]):
    customer_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateProfile(Command[Customer]):
    customer_id: str
    name: str | None = None
    marketing_opt_in: bool | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AddAddress(Command[tuple[Customer, str]]):
    customer_id: str
    address: Address
    default_shipping: bool = False
    default_billing: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplaceAddress(Command[Customer]):
    customer_id: str
    address: Address


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoveAddress(Command[Customer]):
    customer_id: str
    address_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestPasswordReset(Command[None]):
    email: str
    client_ip: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ResetPassword(Command[None]):
    token: str
    password: str
    client_ip: str = ""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@handler
async def register(
    command: RegisterCustomer, *, uow: Uow, clock: Clock, ids: IdGenerator, hasher: PasswordHasher,
    limiter: RateLimiter, auth_limits: AuthLimits,
) -> Customer:
    """Counted per address and per e-mail before the password is hashed (``throttle.py``)."""
    check_password_strength(command.password)
    await admit_sign_up(limiter, auth_limits, email=normalise_email(command.email), client_ip=command.client_ip)
    customer = Customer.register(
        customer_id=ids.new_id(), email=command.email, name=command.name,
        password_hash=await hasher.hash(command.password), now=clock.now(),
    )
    customer.update_profile(marketing_opt_in=command.marketing_opt_in)
    async with uow() as tx:
        await tx.customers.add(customer)
        await tx.commit()
    return customer


_DUMMY: dict[int, str] = {}


async def _dummy_hash(hasher: PasswordHasher) -> str:
    """A hash to verify against for unknown e-mails (same cost as a real check); made once per hasher."""
    if id(hasher) not in _DUMMY:
        _DUMMY[id(hasher)] = await hasher.hash("not-a-real-password-0")
    return _DUMMY[id(hasher)]


@handler
async def sign_in(
    command: SignIn, *, uow: Uow, hasher: PasswordHasher, sessions: SessionStore, limiter: RateLimiter,
    auth_limits: AuthLimits,
) -> SignedIn:
    """Counted and throttled before the password is verified (``throttle.py``); an unknown e-mail costs as
    much as a wrong password. No transaction is open while a hash runs: no connection waits on one."""
    try:
        email = normalise_email(command.email)
    except DomainError:
        raise InvalidCredentials("wrong e-mail or password") from None
    await admit_sign_in(limiter, auth_limits, email=email, client_ip=command.client_ip)
    async with uow() as tx:
        found = await tx.customers.by_email(email)
    verified = found.password_hash if found else await _dummy_hash(hasher)
    valid = await hasher.verify(verified, command.password)
    if found is None or not valid:
        raise InvalidCredentials("wrong e-mail or password")
    if hasher.needs_rehash(verified):
        rehashed = await hasher.hash(command.password)
        async with uow() as tx:
            customer = await tx.customers.get(found.id)
            if customer.rehash_password(was=verified, now_hash=rehashed):  # False: a reset won meanwhile
                await tx.customers.save(customer)
                await tx.commit()
    await signed_in(limiter, auth_limits, email=email, client_ip=command.client_ip)
    token = await sessions.create(found.id, ttl_seconds=SESSION_TTL)
    return SignedIn(customer_id=found.id, token=token)


@handler
async def sign_out(command: SignOut, *, sessions: SessionStore) -> None:
    await sessions.revoke(command.token)


@handler
async def current_customer(query: CurrentCustomer, *, sessions: SessionStore) -> str | None:
    if not query.token:
        return None
    return await sessions.customer_of(query.token, ttl_seconds=SESSION_TTL)


@handler
async def profile(query: GetProfile, *, uow: Uow) -> Customer:
    async with uow() as tx:
        return await tx.customers.get(query.customer_id)


async def _change(uow: Uow, customer_id: str, change: Callable[[Customer], Any]) -> Customer:
    async with uow() as tx:
        customer = await tx.customers.get(customer_id)
        change(customer)
        await tx.customers.save(customer)
        await tx.commit()
    return customer


@handler
async def update_profile(command: UpdateProfile, *, uow: Uow) -> Customer:
    return await _change(
        uow, command.customer_id,
        lambda c: c.update_profile(name=command.name, marketing_opt_in=command.marketing_opt_in),
    )


@handler
async def add_address(
    command: AddAddress, *, uow: Uow, ids: IdGenerator, addresses: AddressValidator,
) -> tuple[Customer, str]:
    address = replace(addresses.normalise(command.address), id=ids.new_id())
    customer = await _change(
        uow, command.customer_id,
        lambda c: c.add_address(address, default_shipping=command.default_shipping,
                                default_billing=command.default_billing),
    )
    return customer, address.id


@handler
async def replace_address(command: ReplaceAddress, *, uow: Uow, addresses: AddressValidator) -> Customer:
    address = replace(addresses.normalise(command.address), id=command.address.id)
    return await _change(uow, command.customer_id, lambda c: c.replace_address(address))


@handler
async def remove_address(command: RemoveAddress, *, uow: Uow) -> Customer:
    return await _change(uow, command.customer_id, lambda c: c.remove_address(command.address_id))


@handler
async def request_password_reset(
    command: RequestPasswordReset, *, uow: Uow, clock: Clock, ids: IdGenerator, notifier: Notifier,
    limiter: RateLimiter, auth_limits: AuthLimits,
) -> None:
    """Always answers the same way, so the endpoint does not reveal which e-mails have accounts (only an
    address past its limit is told to wait). Counted per address and per account (``throttle.py``)."""
    await admit_reset(limiter, auth_limits, client_ip=command.client_ip)
    try:
        email = normalise_email(command.email)
    except DomainError:
        return
    if not await reset_email_allowed(limiter, auth_limits, email=email):
        return
    async with uow() as tx:
        customer = await tx.customers.by_email(email)
        if customer is None:
            return
        token = ids.new_secret()
        await tx.password_resets.add(
            token_hash=token_hash(token), customer_id=customer.id, expires_at=clock.now() + RESET_TTL,
        )
        await tx.commit()
    await notifier.send(Notification(
        to=customer.email, template="password_reset", key=f"password_reset:{token_hash(token)}",
        context={"name": customer.name, "token": token, "expires_in_minutes": int(RESET_TTL.total_seconds() // 60)},
    ))


@handler
async def reset_password(
    command: ResetPassword, *, uow: Uow, clock: Clock, hasher: PasswordHasher, sessions: SessionStore,
    limiter: RateLimiter, auth_limits: AuthLimits,
) -> None:
    """One-time: the token is consumed in the same transaction as the new password hash (hashed only for
    a valid token, so per account the issued tokens bound the hashes)."""
    check_password_strength(command.password)
    await admit_reset(limiter, auth_limits, client_ip=command.client_ip)
    now = clock.now()
    async with uow() as tx:
        customer_id = await tx.password_resets.consume(token_hash(command.token), now=now)
        if customer_id is None:
            raise InvalidResetToken("the reset link is invalid or has expired")
        customer = await tx.customers.get(customer_id)
        customer.change_password(await hasher.hash(command.password), now=now)
        await tx.customers.save(customer)
        await tx.commit()
    await sessions.revoke_all(customer_id)
