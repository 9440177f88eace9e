"""What per-address limits count a client as: an IPv4 address alone, an IPv6 client by its /64."""

from __future__ import annotations

import pytest
from litestar import Request

from entrypoints.http.addresses import address_key, client_address


@pytest.mark.parametrize(("host", "counted"), [
    ("203.0.113.7", "203.0.113.7"),
    ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"),
    ("2001:db8:1:2::1", "2001:db8:1:2::/64"),  # the same /64: one client rotating its address
    ("2001:db8:1:3::1", "2001:db8:1:3::/64"),  # the next /64: another client
    ("::ffff:198.51.100.4", "198.51.100.4"),  # IPv4 on a dual-stack socket
    ("fe80::1%eth0", "fe80::/64"),
    ("testclient", "testclient"),  # not an address: as given
])
def test_a_client_is_counted_by_its_ipv4_address_or_its_ipv6_64(host: str, counted: str) -> None:
    assert address_key(host) == counted


def test_a_request_without_a_client_is_counted_under_the_default() -> None:
    scope = {"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b"", "client": None}
    assert client_address(Request(scope)) == "unknown"  # type: ignore[arg-type]
    scope["client"] = ("2001:db8::5", 443)
    assert client_address(Request(scope)) == "2001:db8::/64"  # type: ignore[arg-type]
