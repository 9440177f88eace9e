"""Audit row 7: five wrong passwords locked the account for 5 minutes, the rightful owner too, and 60
concurrent wrong passwords got 22 verified against a limit of 5 (check and count were not atomic).

The rule now (``application/customers/throttle.py``): every attempt is counted atomically before its
password is verified; per account, attempts are throttled per client address (five free, then growing
delays up to a short block), so an address hammering an account slows itself down and nobody else;
addresses the account has never signed in from also share an account-wide allowance, which addresses
it has signed in from before skip. A refusal is a 429 problem with ``Retry-After``.
"""

from __future__ import annotations

import asyncio

import pytest

from adapters.system.passwords import Argon2Hasher
from tests.support.asgi import serving
from tests.support.hashing import WatchedArgon2
from tests.support.http_app import settings_for
from tests.support.waiting import within

PASSWORD = "correct horse 42"

pytestmark = pytest.mark.slow  # concurrent requests through the real app


@pytest.fixture
def settings(database_url: str, redis_url: str, unique: str):
    # The default limits, but delays and windows of an hour: no outcome depends on how fast the test runs.
    return settings_for(database_url, redis_url, redis_key_prefix=f"test:{unique}:", auth_ip_window_seconds=3600,
                        auth_first_delay_seconds=3600, auth_max_delay_seconds=7200)


def _refusal(answer) -> int:
    assert answer.status_code == 429, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["type"].endswith("/too-many-attempts")
    retry_after = int(answer.headers["retry-after"])
    assert retry_after > 0
    return retry_after


async def test_concurrent_wrong_passwords_get_no_more_verifications_than_the_limit(settings, unique) -> None:
    argon2 = WatchedArgon2()
    email = f"victim-{unique}@example.com"
    async with (serving(settings, hasher=Argon2Hasher(argon2=argon2)) as served,
                served.client("198.51.100.10") as owner, served.client("198.51.100.66") as attacker):
        registered = await owner.post("/store/customers", json={"email": email, "password": PASSWORD, "name": "Vic"})
        assert registered.status_code == 201
        before = argon2.computed
        answers = await within(asyncio.gather(*(
            attacker.post("/store/session", json={"email": email, "password": f"guess number {n}"})
            for n in range(60)
        )), what="60 concurrent wrong passwords")
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [401] * 5 + [429] * 55
    assert argon2.computed - before == 5, "only the admitted attempts were verified"
    for answer in answers:
        if answer.status_code == 429:
            _refusal(answer)


async def test_an_address_hammering_an_account_does_not_lock_its_owner_out(settings, unique) -> None:
    email = f"owner-{unique}@example.com"
    account = {"email": email, "password": PASSWORD, "name": "Olga"}
    async with (serving(settings, hasher=Argon2Hasher(argon2=WatchedArgon2())) as served,
                served.client("198.51.100.20") as home, served.client("198.51.100.99") as attacker,
                served.client("198.51.100.21") as phone):
        assert (await home.post("/store/customers", json=account)).status_code == 201
        statuses = [(await attacker.post("/store/session", json={"email": email, "password": f"guess {n}"}))
                    for n in range(8)]
        assert [a.status_code for a in statuses[:5]] == [401] * 5
        for refused in statuses[5:]:
            _refusal(refused)
        # The attacker's right guess now is refused too: it is the attacker's address that waits.
        _refusal(await attacker.post("/store/session", json={"email": email, "password": PASSWORD}))
        # The owner signs in, from home and from a phone on an address the account has never used.
        assert (await home.post("/store/session", json={"email": email, "password": PASSWORD})).status_code == 200
        assert (await phone.post("/store/session", json={"email": email, "password": PASSWORD})).status_code == 200


async def test_guesses_spread_over_many_addresses_slow_new_addresses_but_not_the_owners(settings, unique) -> None:
    email = f"spread-{unique}@example.com"
    async with serving(settings, hasher=Argon2Hasher(argon2=WatchedArgon2())) as served:
        async with served.client("198.51.100.30") as home:
            registered = await home.post("/store/customers", json={"email": email, "password": PASSWORD,
                                                                  "name": "Sam"})
            assert registered.status_code == 201
        bots = [served.client(f"192.0.2.{n}") for n in range(1, 41)]
        try:
            guesses = [await bot.post("/store/session", json={"email": email, "password": "wrong guess 1"})
                       for bot in bots]
        finally:
            for bot in bots:
                await bot.aclose()
        statuses = [g.status_code for g in guesses]
        admitted = statuses.count(401)
        assert 0 < admitted < 40
        assert statuses == [401] * admitted + [429] * (40 - admitted)
        async with served.client("198.51.100.31") as new_phone, served.client("198.51.100.30") as home:
            _refusal(await new_phone.post("/store/session", json={"email": email, "password": PASSWORD}))
            assert (await home.post("/store/session", json={"email": email, "password": PASSWORD})).status_code == 200
