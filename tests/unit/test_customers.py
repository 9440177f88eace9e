"""Customer accounts through the bus with fakes: registration, sign-in throttling, reset tokens, addresses."""

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
from application.customers.throttle import AuthLimits
from domain.customers.customer import EmailTaken, InvalidCredentials, InvalidResetToken, WeakPassword
from domain.shared.address import Address, InvalidAddress
from tests.support.bus import build_bus
from tests.support.unit import peek_outbox

PASSWORD = "correct horse 42"
LIMITS = AuthLimits()  # what build_bus wires: the defaults


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


async def wrong(bus, ip: str) -> None:
    with pytest.raises(InvalidCredentials):
        await bus.handle(h.SignIn(email="ada@example.com", password="wrong password 1", client_ip=ip))


async def refused(bus, ip: str, password: str = "wrong password 1") -> int:
    with pytest.raises(TooManyAttempts) as refusal:
        await bus.handle(h.SignIn(email="ada@example.com", password=password, client_ip=ip))
    return refusal.value.retry_after


async def test_wrong_passwords_from_one_address_wait_longer_each_time_up_to_a_short_block(world) -> None:
    bus, *_, clock = world
    await register(bus)
    for _ in range(LIMITS.free_attempts):
        await wrong(bus, "1.2.3.4")
    waits = []
    for _ in range(7):
        waits.append(await refused(bus, "1.2.3.4"))
        clock.advance(timedelta(seconds=waits[-1] - 1))
        await refused(bus, "1.2.3.4", PASSWORD)  # a second early: even the right password waits
        clock.advance(timedelta(seconds=1))
        await wrong(bus, "1.2.3.4")
    assert waits == [30, 60, 120, 240, 480, 900, 900]


async def test_the_owner_signs_in_elsewhere_while_an_address_is_throttled_and_success_starts_over(world) -> None:
    bus, *_, clock = world
    customer = await register(bus)
    for _ in range(LIMITS.free_attempts):
        await wrong(bus, "6.6.6.6")
    wait = await refused(bus, "6.6.6.6", PASSWORD)
    owner = await bus.handle(h.SignIn(email="ada@example.com", password=PASSWORD, client_ip="5.6.7.8"))
    assert await bus.handle(h.CurrentCustomer(token=owner.token)) == customer.id
    clock.advance(timedelta(seconds=wait))
    assert await bus.handle(h.SignIn(email="ada@example.com", password=PASSWORD, client_ip="6.6.6.6"))
    for _ in range(LIMITS.free_attempts):  # the address's count started over
        await wrong(bus, "6.6.6.6")
    await refused(bus, "6.6.6.6")


async def test_new_addresses_share_an_account_allowance_that_known_addresses_skip(world) -> None:
    bus, *_, clock = world
    await register(bus)
    await bus.handle(h.SignIn(email="ada@example.com", password=PASSWORD, client_ip="10.0.0.1"))
    # The home sign-in drew on the allowance too, before the address was known.
    for n in range(LIMITS.account_free_attempts - 1):
        await wrong(bus, f"192.0.2.{n}")
    wait = await refused(bus, "198.51.100.1", PASSWORD)
    assert wait == LIMITS.first_delay_seconds
    assert await bus.handle(h.SignIn(email="ada@example.com", password=PASSWORD, client_ip="10.0.0.1"))
    clock.advance(timedelta(seconds=wait))
    assert await bus.handle(h.SignIn(email="ada@example.com", password=PASSWORD, client_ip="198.51.100.1"))


async def test_sign_ups_are_limited_per_address_and_per_email_before_hashing(world) -> None:
    bus, *_, clock = world
    for n in range(LIMITS.sign_ups_per_ip):
        await bus.handle(h.RegisterCustomer(email=f"c{n}@example.com", password=PASSWORD, name="C",
                                            client_ip="1.1.1.1"))
    with pytest.raises(TooManyAttempts):
        await bus.handle(h.RegisterCustomer(email="late@example.com", password=PASSWORD, name="L", client_ip="1.1.1.1"))
    for n in range(LIMITS.free_attempts - 1):
        with pytest.raises(EmailTaken):
            await bus.handle(h.RegisterCustomer(email="c0@example.com", password=PASSWORD, name="C",
                                                client_ip=f"2.2.2.{n}"))
    with pytest.raises(TooManyAttempts) as refusal:
        await bus.handle(h.RegisterCustomer(email="C0@example.com", password=PASSWORD, name="C", client_ip="3.3.3.3"))
    clock.advance(timedelta(seconds=refusal.value.retry_after))
    with pytest.raises(EmailTaken):
        await bus.handle(h.RegisterCustomer(email="c0@example.com", password=PASSWORD, name="C", client_ip="3.3.3.3"))


async def test_password_resets_are_limited_per_address(world) -> None:
    bus, *_ = world
    for n in range(LIMITS.resets_per_ip):
        await bus.handle(h.RequestPasswordReset(email=f"r{n}@example.com", client_ip="4.4.4.4"))
    with pytest.raises(TooManyAttempts):
        await bus.handle(h.RequestPasswordReset(email="r@example.com", client_ip="4.4.4.4"))
    with pytest.raises(TooManyAttempts):
        await bus.handle(h.ResetPassword(token="not-a-real-token", password="a new Secret 99", client_ip="4.4.4.4"))


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


async def test_a_hash_made_with_older_parameters_is_replaced_at_sign_in() -> None:
    db, ids = MemoryDatabase(), SequentialIds()
    older, stronger = Argon2Hasher(time_cost=1, memory_cost=1024), Argon2Hasher(time_cost=2, memory_cost=2048)
    customer = await register(build_bus(uow=lambda: MemoryUnitOfWork(db, ids), clock=FakeClock(), ids=ids,
                                        hasher=older))
    bus = build_bus(uow=lambda: MemoryUnitOfWork(db, ids), clock=FakeClock(), ids=ids, hasher=stronger)
    old_hash = (await bus.handle(h.GetProfile(customer_id=customer.id))).password_hash
    assert stronger.needs_rehash(old_hash)
    await bus.handle(h.SignIn(email="ada@example.com", password=PASSWORD, client_ip="1.2.3.4"))
    new_hash = (await bus.handle(h.GetProfile(customer_id=customer.id))).password_hash
    assert not stronger.needs_rehash(new_hash)
    assert await stronger.verify(new_hash, PASSWORD)
