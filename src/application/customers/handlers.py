"""Customer accounts: register, sign in and out, profile, address book, password reset."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from application.customers.errors import TooManyAttempts
from application.customers.ports import CustomerUnitOfWork, PasswordHasher, SessionStore
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
SIGN_IN_PER_ACCOUNT = (5, 300)  # attempts per window (seconds)
SIGN_IN_PER_IP = (100, 300)  # generous: shoppers share NAT addresses


@dataclass(frozen=True, slots=True, kw_only=True)
class RegisterCustomer(Command[Customer]):
    email: str
    password: str
    name: str
    marketing_opt_in: bool = False


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


@dataclass(frozen=True, slots=True, kw_only=True)
class ResetPassword(Command[None]):
    token: str
    password: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@handler
async def register(
    command: RegisterCustomer, *, uow: Uow, clock: Clock, ids: IdGenerator, hasher: PasswordHasher,
) -> Customer:
    check_password_strength(command.password)
    customer = Customer.register(
        customer_id=ids.new_id(), email=command.email, name=command.name,
        password_hash=hasher.hash(command.password), now=clock.now(),
    )
    customer.update_profile(marketing_opt_in=command.marketing_opt_in)
    async with uow() as tx:
        await tx.customers.add(customer)
        await tx.commit()
    return customer


_DUMMY: dict[int, str] = {}


def _dummy_hash(hasher: PasswordHasher) -> str:
    """A hash to verify against for unknown e-mails (same cost as a real check); made once per hasher."""
    if id(hasher) not in _DUMMY:
        _DUMMY[id(hasher)] = hasher.hash("not-a-real-password-0")
    return _DUMMY[id(hasher)]


@handler
async def sign_in(
    command: SignIn, *, uow: Uow, hasher: PasswordHasher, sessions: SessionStore, limiter: RateLimiter,
) -> SignedIn:
    """Rate limited per account and per client IP; an unknown e-mail costs as much as a wrong password."""
    try:
        email = normalise_email(command.email)
    except DomainError:
        raise InvalidCredentials("wrong e-mail or password") from None
    # Per IP every attempt counts; per account only failures do (a lock-out after repeated guesses).
    account_key = f"signin:account:{token_hash(email)}"
    ip = await limiter.hit(f"signin:ip:{command.client_ip}", limit=SIGN_IN_PER_IP[0], window_seconds=SIGN_IN_PER_IP[1])
    account = await limiter.check(account_key, limit=SIGN_IN_PER_ACCOUNT[0], window_seconds=SIGN_IN_PER_ACCOUNT[1])
    for decision in (ip, account):
        if not decision.allowed:
            raise TooManyAttempts(decision.retry_after)
    async with uow() as tx:
        customer = await tx.customers.by_email(email)
        valid = hasher.verify(customer.password_hash if customer else _dummy_hash(hasher), command.password)
        if customer is None or not valid:
            await limiter.hit(account_key, limit=SIGN_IN_PER_ACCOUNT[0], window_seconds=SIGN_IN_PER_ACCOUNT[1])
            raise InvalidCredentials("wrong e-mail or password")
        if hasher.needs_rehash(customer.password_hash):
            loaded = customer.version
            customer.password_hash = hasher.hash(command.password)
            customer.version += 1
            await tx.customers.save(customer, expected_version=loaded)
            await tx.commit()
    token = await sessions.create(customer.id, ttl_seconds=SESSION_TTL)
    return SignedIn(customer_id=customer.id, token=token)


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
        loaded = customer.version
        change(customer)
        customer.version = loaded + 1
        await tx.customers.save(customer, expected_version=loaded)
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
    limiter: RateLimiter,
) -> None:
    """Always answers the same way, so the endpoint does not reveal which e-mails have accounts."""
    try:
        email = normalise_email(command.email)
    except DomainError:
        return
    if not (await limiter.hit(f"reset:{token_hash(email)}", limit=3, window_seconds=3600)).allowed:
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
) -> None:
    """One-time: the token is consumed in the same transaction as the new password hash."""
    check_password_strength(command.password)
    now = clock.now()
    async with uow() as tx:
        customer_id = await tx.password_resets.consume(token_hash(command.token), now=now)
        if customer_id is None:
            raise InvalidResetToken("the reset link is invalid or has expired")
        customer = await tx.customers.get(customer_id)
        loaded = customer.version
        customer.change_password(hasher.hash(command.password), now=now)
        customer.version = loaded + 1
        await tx.customers.save(customer, expected_version=loaded)
        await tx.commit()
    await sessions.revoke_all(customer_id)
