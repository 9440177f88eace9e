"""The client address that per-address limits count (sign-ins, storefront writes, coupon guesses, beacons).

An IPv4 address counts alone. An IPv6 client is counted by its /64: one subscriber or host is given a whole
/64 (a home line, a cloud machine), and its privacy extensions pick a new address in it as often as they like,
so counting each address would let one client rotate past every limit. An IPv4 address mapped into IPv6
(``::ffff:192.0.2.1``, what a dual-stack socket reports) counts as the IPv4 address it is.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from litestar import Request

IPV6_PREFIX = 64


def address_key(host: str) -> str:
    """What a per-address limit counts ``host`` as: itself for IPv4, its /64 for IPv6, as given otherwise."""
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return host  # not an address (a test client's name): counted as given
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, IPV6_PREFIX), strict=False))
    return str(address)


def client_address(request: Request[Any, Any, Any], default: str = "unknown") -> str:
    """The request's client (the connection's, or a trusted proxy's forwarded one) as limits count it."""
    return address_key(request.client.host) if request.client else default
