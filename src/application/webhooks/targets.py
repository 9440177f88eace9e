"""Where a webhook may go: the URL rules and the address classes never sent to (no SSRF).

One policy, applied twice: when the owner registers a URL (a 422 naming the field) and by the sender on
every attempt, where the host is resolved once, every address it resolves to is checked, and the
connection goes to a checked address (``adapters/http/pinning.py``), so a name that answered a public
address at registration and loopback now is refused. Numeric-host tricks (``2130706433``,
``0x7f000001``, ``0177.0.0.1``, ``127.1``) are refused outright rather than guessed at.

Development and tests only: ``allow_http`` lets plain ``http://`` through, and ``allowed_hosts`` names
exact ``host:port`` entries (a local receiver) that skip the address check; nothing else is exempt.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from application.webhooks.errors import HostNotFound, TargetRefused
from application.webhooks.ports import Resolver
from domain.webhooks.subscription import InvalidSubscription

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# The fixed reasons the delivery log shows; never the target's own words.
BLOCKED_ADDRESS = "blocked address"
HTTPS_REQUIRED = "https required"
INVALID_URL = "invalid url"

# Beside what ``ipaddress`` calls private, loopback, link-local, multicast, reserved or not global:
# spelled out so that a Python whose tables differ cannot open one of them.
_BLOCKED_NETWORKS = tuple(ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24",
    "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
    "::/96", "::ffff:0:0/96", "64:ff9b:1::/48", "100::/64", "2001::/23", "2001:db8::/32", "fc00::/7",
    "fe80::/10", "fec0::/10", "ff00::/8",
))
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_COMPATIBLE = ipaddress.ip_network("::/96")
# A host whose last label is a number is an IPv4 address to a URL parser (WHATWG) and to inet_aton.
_NUMBER = re.compile(r"0x[0-9a-f]*|[0-9]+")
_NAME = re.compile(r"[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*\.?")


@dataclass(frozen=True, slots=True)
class Target:
    scheme: str
    host: str  # a lower-case name, or an IP address in its canonical text (no brackets)
    port: int


def is_blocked(address: IPAddress) -> bool:
    """True for every address a webhook must never reach: loopback, private, link-local, CGNAT, multicast,
    reserved, unspecified, site-local, documentation …, and IPv6 forms that carry such an IPv4 address."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return is_blocked(address.ipv4_mapped)
        embedded = _embedded_ipv4(address)
        if embedded is not None and is_blocked(embedded):
            return True
        if address.is_site_local or address.scope_id:
            return True
    return (
        not address.is_global or address.is_private or address.is_loopback or address.is_link_local
        or address.is_multicast or address.is_reserved or address.is_unspecified
        or any(address in network for network in _BLOCKED_NETWORKS)
    )


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address a 6to4, Teredo (client), NAT64 or IPv4-compatible address leads to."""
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64 or address in _COMPATIBLE:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def parse_target(url: str, *, allow_http: bool = False) -> Target:
    """The scheme, host and port a URL names, or ``TargetRefused`` when the URL breaks the rules."""
    if any(ord(c) <= 0x20 or ord(c) == 0x7F for c in url) or not url.isascii():
        raise TargetRefused(INVALID_URL, "spaces, control characters and non-ASCII text are not allowed "
                                         "(write an international host name in its xn-- form)")
    try:
        parts = urlsplit(url)
    except ValueError:  # an unclosed IPv6 bracket, say
        raise TargetRefused(INVALID_URL, "the URL cannot be parsed") from None
    scheme = parts.scheme.lower()
    if scheme == "http" and not allow_http:
        raise TargetRefused(HTTPS_REQUIRED, "webhooks are sent over https only")
    if scheme not in ("http", "https"):
        raise TargetRefused(INVALID_URL, "the URL must be absolute https")
    if "@" in parts.netloc:
        raise TargetRefused(INVALID_URL, "credentials in the URL are not allowed (the signature authenticates)")
    try:
        explicit = parts.port
    except ValueError:
        explicit = 0
    if explicit == 0:
        raise TargetRefused(INVALID_URL, "the port is not a number from 1 to 65535")
    port = explicit or (443 if scheme == "https" else 80)
    host = parts.hostname or ""
    if parts.netloc.startswith("["):
        try:
            if "%" in host:
                raise ValueError("a zone index names a local interface")
            literal: IPAddress = ipaddress.IPv6Address(host)
        except ValueError:
            raise TargetRefused(INVALID_URL, "the bracketed host is not an IPv6 address") from None
        return Target(scheme, str(literal), port)
    if not host or len(host) > 253 or not _NAME.fullmatch(host):
        raise TargetRefused(INVALID_URL, "the host is not a valid host name")
    if _numeric(host):
        try:
            return Target(scheme, str(ipaddress.IPv4Address(host)), port)
        except ValueError:
            raise TargetRefused(INVALID_URL, "a numeric host must be a dotted-quad IPv4 address "
                                             "(no decimal, hex, octal or short forms)") from None
    return Target(scheme, host, port)


def _numeric(host: str) -> bool:
    return _NUMBER.fullmatch(host.rstrip(".").rsplit(".", 1)[-1]) is not None


def host_key(host: str, port: int) -> str:
    """``host:port`` as the allow-list spells it (an IPv6 address in brackets)."""
    host = host.lower().strip("[]")
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def parse_allowed_hosts(text: str) -> frozenset[str]:
    """``"127.0.0.1:8765, [::1]:9000"`` → exact ``host:port`` entries (tests and development only)."""
    entries = set()
    for entry in filter(None, (e.strip() for e in text.split(","))):
        host, _, port = entry.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"a webhook allow-list entry is host:port, not {entry!r}")
        entries.add(host_key(host, int(port)))
    return frozenset(entries)


class WebhookTargets:
    """The policy for webhook targets, with the resolver it checks names through."""

    def __init__(
        self, resolver: Resolver, *, allow_http: bool = False, allowed_hosts: str | Iterable[str] = "",
    ) -> None:
        self._resolver = resolver
        self.allow_http = allow_http
        self._allowed = parse_allowed_hosts(allowed_hosts if isinstance(allowed_hosts, str)
                                            else ",".join(allowed_hosts))

    def target(self, url: str) -> Target:
        return parse_target(url, allow_http=self.allow_http)

    async def addresses(self, host: str, port: int) -> list[IPAddress]:
        """Every address ``host`` resolves to, in the resolver's order: each one checked, so the caller
        connects only to one of these. ``TargetRefused`` when any is blocked, ``HostNotFound`` when none."""
        bare = host.strip("[]")
        try:
            found: list[IPAddress] = [ipaddress.ip_address(bare)]
        except ValueError:
            if _numeric(bare):
                raise TargetRefused(INVALID_URL, "a numeric host must be a dotted-quad IPv4 address") from None
            found = []
            for text in await self._resolver.resolve(bare, port):
                try:
                    address = ipaddress.ip_address(text)
                except ValueError:
                    raise TargetRefused(BLOCKED_ADDRESS, "the host resolves to something that is not an "
                                                         "IP address") from None
                if address not in found:
                    found.append(address)
        if not found:
            raise HostNotFound(host)
        if host_key(bare, port) not in self._allowed and any(is_blocked(a) for a in found):
            raise TargetRefused(BLOCKED_ADDRESS, "the host is or resolves to an address webhooks are never "
                                                 "sent to (loopback, private, link-local, shared, multicast, "
                                                 "reserved …)")
        return found

    async def check_registration(self, url: str) -> None:
        """What the sender would refuse, refused now as ``InvalidSubscription`` naming the field. A name
        that does not resolve yet is accepted: the sender checks it again on every attempt."""
        try:
            target = self.target(url)
            await self.addresses(target.host, target.port)
        except TargetRefused as refused:
            raise InvalidSubscription(f"url: {refused.explanation}") from None
        except HostNotFound:
            return
