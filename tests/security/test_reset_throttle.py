"""Password resets counted per client address and per account before anything is hashed or sent.

Rows 2 and 7 asked for sign-up, sign-in and password reset to be limited per address and per account
with an atomic count taken first. For resets (``application/customers/throttle.py``): a request is
counted per client address (a 429 past its limit) and per account, every address together; past the
account's allowance (``resets_per_account`` a ``reset_window_seconds``, settings
``auth_resets_per_account`` / ``auth_reset_window_seconds``) it is answered like any other request
and sends nothing, so a script spreading requests over many addresses cannot bury a mailbox in reset
e-mails, and the answer never tells whether the e-mail has an account. A new password is hashed only
for a valid one-time token, after the confirmation was counted per address.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.memory.clock import FakeClock, SequentialIds
from adapters.memory.customers import MemoryNotifier
from adapters.memory.store import MemoryDatabase, MemoryUnitOfWork
from adapters.system.passwords import Argon2Hasher
from application.customers import handlers as h
from application.customers.errors import TooManyAttempts
from application.customers.throttle import AuthLimits
from domain.customers.customer import InvalidResetToken
from entrypoints.factories import make_auth_limits
from entrypoints.settings import Settings
from tests.support.bus import build_bus
from tests.support.hashing import WatchedArgon2

PASSWORD = "correct horse 42"


class World:
    def __init__(self, limits: AuthLimits | None = None) -> None:
        db, ids = MemoryDatabase(), SequentialIds()
        self.clock, self.notifier, self.argon2 = FakeClock(), MemoryNotifier(), WatchedArgon2()
        self.bus = build_bus(
            uow=lambda: MemoryUnitOfWork(db, ids),
            clock=self.clock,
            ids=ids,
            notifier=self.notifier,
            hasher=Argon2Hasher(argon2=self.argon2),
            auth_limits=limits,
        )

    async def register(self, email: str) -> None:
        await self.bus.handle(h.RegisterCustomer(email=email, password=PASSWORD, name="Ada"))

    async def ask(self, email: str, client_ip: str) -> None:
        answer = await self.bus.handle(h.RequestPasswordReset(email=email, client_ip=client_ip))
        assert answer is None  # the same answer, sent or not, known or not

    def mails_to(self, email: str) -> int:
        return sum(1 for n in self.notifier.sent if n.to == email and n.template == "password_reset")


async def test_reset_emails_to_one_account_stop_at_its_allowance_whatever_the_address_asking() -> None:
    world = World()
    await world.register("ada@example.com")
    for n in range(12):  # a script spreading its requests over addresses, each far below its own limit
        await world.ask("ada@example.com", f"203.0.113.{n}")
        await world.ask("nobody@example.com", f"203.0.113.{n}")  # an unknown e-mail: answered the same way
    assert world.mails_to("ada@example.com") == AuthLimits().resets_per_account == 3
    await world.ask("ADA@example.com ", "198.51.100.7")  # the owner, from home: the same account, counted
    assert world.mails_to("ada@example.com") == 3
    world.clock.advance(timedelta(seconds=AuthLimits().reset_window_seconds))
    await world.ask("ada@example.com", "198.51.100.7")  # a new window: the owner gets a link again
    assert world.mails_to("ada@example.com") == 4


async def test_the_per_account_allowance_is_the_operators_setting() -> None:
    limits = make_auth_limits(Settings(auth_resets_per_account=1, auth_reset_window_seconds=600))
    assert (limits.resets_per_account, limits.reset_window_seconds) == (1, 600)
    world = World(limits)
    await world.register("ada@example.com")
    for n in range(4):
        await world.ask("ada@example.com", f"203.0.113.{n}")
    assert world.mails_to("ada@example.com") == 1
    world.clock.advance(timedelta(seconds=599))
    await world.ask("ada@example.com", "203.0.113.9")
    assert world.mails_to("ada@example.com") == 1
    world.clock.advance(timedelta(seconds=1))
    await world.ask("ada@example.com", "203.0.113.9")
    assert world.mails_to("ada@example.com") == 2


async def test_reset_requests_from_one_address_are_refused_past_its_limit_whatever_the_e_mails() -> None:
    world = World()
    for n in range(AuthLimits().resets_per_ip):
        await world.ask(f"r{n}@example.com", "192.0.2.1")
    with pytest.raises(TooManyAttempts) as refused:
        await world.bus.handle(h.RequestPasswordReset(email="r@example.com", client_ip="192.0.2.1"))
    assert refused.value.retry_after > 0


async def test_a_confirmation_is_counted_per_address_first_and_only_a_valid_token_gets_a_hash() -> None:
    world = World()
    await world.register("ada@example.com")
    await world.ask("ada@example.com", "198.51.100.7")
    [mail] = world.notifier.sent
    before = world.argon2.computed
    for n in range(AuthLimits().resets_per_ip):
        with pytest.raises(InvalidResetToken):
            await world.bus.handle(
                h.ResetPassword(token=f"guess-{n}", password="a new Secret 99", client_ip="192.0.2.66")
            )
    with pytest.raises(TooManyAttempts):  # even the right token, from the address that spent its count
        await world.bus.handle(
            h.ResetPassword(token=mail.context["token"], password="a new Secret 99", client_ip="192.0.2.66")
        )
    assert world.argon2.computed == before  # nothing hashed for guesses or refusals
    await world.bus.handle(
        h.ResetPassword(token=mail.context["token"], password="a new Secret 99", client_ip="198.51.100.7")
    )
    assert world.argon2.computed == before + 1
