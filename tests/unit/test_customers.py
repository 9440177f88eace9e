"""Customer accounts through the bus with fakes: registration, sign-in limits, reset tokens, addresses."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.memory.clock import FakeClock, SequentialIds
from adapters.memory.customers import MemoryNotifier, MemorySessionStore
from adapters.memory.outbox import MemoryOutboxStore
from adapters.memory.store import MemoryDatabase, MemoryUnitOfWork
from adapters.system.passwords import Argon2Hasher
from application.customers import handlers as h
from application.customers.errors import TooManyAttempts
from domain.customers.customer import EmailTaken, InvalidCredentials, InvalidResetToken, WeakPassword
from domain.shared.address import Address, InvalidAddress
from tests.support.bus import build_bus
from tests.support.unit import peek_outbox

PASSWORD = "correct horse 42"


@pytest.fixture
def world():
    db, ids, clock = MemoryDatabase(), SequentialIds(), FakeClock()
    sessions, notifier = MemorySessionStore(), MemoryNotifier()
    bus = build_bus(
        uow=lambda: MemoryUnitOfWork(db, ids), clock=clock, ids=ids, sessions=sessions, notifier=notifier,
        hasher=Argon2Hasher(time_cost=1, memory_cost=1024),
    )
    return bus, MemoryOutboxStore(db), sessions, notifier, clock


async def register(bus, email="ada@example.com"):
    return await bus.handle(h.RegisterCustomer(email=email, password=PASSWORD, name="Ada"))


async def test_register_stores_a_hash_never_the_password_and_emits_an_event(world) -> None:
    bus, outbox, *_ = world
    customer = await register(bus, "  Ada@Example.COM ")
    stored = await bus.handle(h.GetProfile(customer_id=customer.id))
    assert stored.email == "ada@example.com"
    assert PASSWORD not in stored.password_hash
    assert stored.password_hash.startswith("$argon2id$")
    [registered] = await peek_outbox(outbox)
    assert registered.topic == "customers.customer_registered.v1"
    assert "password" not in str(registered.payload)


async def test_one_account_per_email_and_weak_passwords_refused(world) -> None:
    bus, outbox, *_ = world
    await register(bus)
    with pytest.raises(EmailTaken):
        await register(bus, "ADA@example.com")
    with pytest.raises(WeakPassword):
        await bus.handle(h.RegisterCustomer(email="bob@example.com", password="short", name="Bob"))
    # One account was stored: an account is written in the same commit as its registration event.
    assert [m.topic for m in await peek_outbox(outbox)] == ["customers.customer_registered.v1"]


async def test_sign_in_checks_the_password_and_creates_a_session(world) -> None:
    bus, _, _sessions, *_ = world
    customer = await register(bus)
    with pytest.raises(InvalidCredentials):
        await bus.handle(h.SignIn(email="ada@example.com", password="wrong password 1", client_ip="1.2.3.4"))
    with pytest.raises(InvalidCredentials):
        await bus.handle(h.SignIn(email="nobody@example.com", password=PASSWORD, client_ip="1.2.3.4"))
    signed = await bus.handle(h.SignIn(email="ADA@example.com", password=PASSWORD, client_ip="1.2.3.4"))
    assert await bus.handle(h.CurrentCustomer(token=signed.token)) == customer.id
    await bus.handle(h.SignOut(token=signed.token))
    assert await bus.handle(h.CurrentCustomer(token=signed.token)) is None


async def test_sign_in_is_rate_limited_per_account_then_frees_up(world) -> None:
    bus, *_, clock = world
    await register(bus)
    for _ in range(h.SIGN_IN_PER_ACCOUNT[0]):
        with pytest.raises(InvalidCredentials):
            await bus.handle(h.SignIn(email="ada@example.com", password="wrong password 1", client_ip="1.2.3.4"))
    with pytest.raises(TooManyAttempts) as refused:
        await bus.handle(h.SignIn(email="ada@example.com", password=PASSWORD, client_ip="5.6.7.8"))
    assert refused.value.retry_after > 0
    clock.advance(timedelta(seconds=h.SIGN_IN_PER_ACCOUNT[1]))
    assert (await bus.handle(h.SignIn(email="ada@example.com", password=PASSWORD, client_ip="5.6.7.8"))).token


async def test_password_reset_token_works_once_and_ends_every_session(world) -> None:
    bus, _, _sessions, notifier, clock = world
    await register(bus)
    old = await bus.handle(h.SignIn(email="ada@example.com", password=PASSWORD, client_ip="1.2.3.4"))
    await bus.handle(h.RequestPasswordReset(email="nobody@example.com"))  # silently nothing
    await bus.handle(h.RequestPasswordReset(email="ada@example.com"))
    [sent] = notifier.sent
    assert (sent.to, sent.template) == ("ada@example.com", "password_reset")
    token = sent.context["token"]
    await bus.handle(h.ResetPassword(token=token, password="a new Secret 99"))
    assert await bus.handle(h.CurrentCustomer(token=old.token)) is None
    with pytest.raises(InvalidResetToken):
        await bus.handle(h.ResetPassword(token=token, password="another Secret 99"))
    assert await bus.handle(h.SignIn(email="ada@example.com", password="a new Secret 99", client_ip="1.2.3.4"))
    await bus.handle(h.RequestPasswordReset(email="ada@example.com"))
    clock.advance(h.RESET_TTL + timedelta(seconds=1))
    with pytest.raises(InvalidResetToken):
        await bus.handle(h.ResetPassword(token=notifier.sent[-1].context["token"], password="late Secret 99"))


async def test_address_book_normalises_per_country_and_names_the_bad_field(world) -> None:
    bus, *_ = world
    customer = await register(bus)
    address = Address(name="Ada", line1="Unter den Linden 1", city="berlin", postal_code="10117", country="DE")
    saved, address_id = await bus.handle(h.AddAddress(customer_id=customer.id, address=address))
    assert saved.address(address_id).city == "BERLIN"
    assert saved.default_shipping == address_id
    with pytest.raises(InvalidAddress) as bad:
        await bus.handle(h.AddAddress(customer_id=customer.id, address=Address(
            name="Ada", line1="Main St 1", city="Mountain View", postal_code="ABC", country="US", region="CA")))
    assert bad.value.errors == {"postal_code": "invalid"}
    emptied = await bus.handle(h.RemoveAddress(customer_id=customer.id, address_id=address_id))
    assert emptied.addresses == []
    assert emptied.default_shipping is None
