"""Audit row 11: 300 coupon-code guesses in 0.8 s, none refused. Every try now counts, per cart owner
and per client address, before the code is looked up: ten are free, then the next must wait."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.http_app import client_for, settings_for
from tests.support.storefront import Browser


@pytest.fixture(scope="module")
def client(database_url: str, redis_url: str) -> Iterator[Any]:
    settings = settings_for(database_url, redis_url, redis_key_prefix=f"test:{uuid.uuid4().hex[:8]}:")
    with client_for(settings, base_url="https://testserver.local") as client:
        yield client


def _guess(shopper: Browser, n: int) -> Any:
    return shopper.post("/store/cart/coupons", json={"code": f"GUESS{n:04d}"})


def test_a_script_guessing_coupon_codes_is_slowed_down_after_ten_tries_whatever_its_cookies(client: Any) -> None:
    shopper = Browser(client)
    answers = [_guess(shopper, n) for n in range(30)]
    statuses = [a.status_code for a in answers]
    assert statuses[:10] == [422] * 10  # unknown codes, answered
    assert set(statuses[10:]) == {429}
    refused = answers[10]
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["type"].endswith("/too-many-coupon-guesses")
    assert int(refused.headers["Retry-After"]) >= 1
    fresh = Browser(client)  # new cookies, a new cart, the same address: still counted
    assert _guess(fresh, 9999).status_code == 429
