"""Admission tokens: what a waiting room hands a shopper it admits, and what the cart and the payment ask for.

A token names the drop, the shopper's ticket and an expiry, signed with the shop's secret key (HMAC-SHA256;
the newest key signs, any configured key verifies, so a key can be rotated). The ticket is derived from
the drop and the shopper (``ticket_for``), and the signature covers the shopper too, so a token copied to
another session or another drop is refused without asking any database. It is good for one checkout: the
payment that holds the stock records the ticket as used in the same transaction, and a second checkout
presenting it is refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from application.drops.errors import AdmissionRefused, AdmissionRequired, DropNotOpen
from domain.carts.cart import Owner
from domain.drops.drop import Drop, DropPhase
from domain.inventory.errors import OutOfStock

VERSION = "a1"


@dataclass(frozen=True, slots=True, kw_only=True)
class Admission:
    drop_id: str
    ticket_id: str
    expires_at: datetime


def ticket_for(drop_id: str, holder: str) -> str:
    """The one ticket a shopper (``holder``: the cart owner's key) has for a drop."""
    return "t" + hashlib.sha256(f"{drop_id}\x00{holder}".encode()).hexdigest()[:31]


def _mac(key: str, body: str, holder: str) -> str:
    digest = hmac.new(key.encode(), f"admission\x00{body}\x00{holder}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


class AdmissionTokens:
    def __init__(self, keys: Sequence[str], *, ttl_seconds: int = 900) -> None:
        if not keys or not all(keys):
            raise ValueError("admission tokens need a secret key")
        self._keys = list(keys)
        self._ttl = timedelta(seconds=ttl_seconds)

    @property
    def ttl(self) -> timedelta:
        """How long a token is good for."""
        return self._ttl

    def issue(self, drop_id: str, holder: str, *, now: datetime) -> Admission:
        return Admission(drop_id=drop_id, ticket_id=ticket_for(drop_id, holder), expires_at=now + self._ttl)

    def sign(self, admission: Admission, holder: str) -> str:
        body = f"{VERSION}.{admission.drop_id}.{admission.ticket_id}.{int(admission.expires_at.timestamp())}"
        return f"{body}.{_mac(self._keys[0], body, holder)}"

    def verify(self, token: str, *, drop_id: str, holder: str, now: datetime) -> Admission:
        """The admission ``token`` grants ``holder`` for ``drop_id`` now; ``AdmissionRefused`` otherwise."""
        parts = token.split(".")
        if len(parts) != 5 or parts[0] != VERSION:
            raise AdmissionRefused(drop_id, "this admission token is not one of ours")
        version, token_drop, ticket_id, expires, mac = parts
        body = f"{version}.{token_drop}.{ticket_id}.{expires}"
        if not any(hmac.compare_digest(mac.encode(), _mac(key, body, holder).encode()) for key in self._keys):
            raise AdmissionRefused(drop_id, "this admission token was not issued to this shopper")
        if token_drop != drop_id or ticket_id != ticket_for(drop_id, holder):
            raise AdmissionRefused(drop_id, f"this admission token is for another drop than {drop_id}")
        expires_at = datetime.fromtimestamp(int(expires), UTC)
        if expires_at <= now:
            raise AdmissionRefused(drop_id, "this admission token has expired: ask the waiting room again")
        return Admission(drop_id=drop_id, ticket_id=ticket_id, expires_at=expires_at)


def holder_of(owner: Owner) -> str:
    """The shopper a ticket and an admission belong to: the cart's owner (the account, or the guest)."""
    return f"{owner.kind.value}:{owner.id}"


def admission_needed(selling: Iterable[Drop], skus: Collection[str], *, token: str | None, holder: str,
                     admissions: AdmissionTokens, now: datetime) -> Admission | None:
    """The admission buying ``skus`` takes now, checked: ``None`` when none of them is behind a waiting
    room. A drop not open yet refuses them (``DropNotOpen``), a sold-out one answers ``OutOfStock``,
    and an open one needs ``token``, signed for this shopper and this drop, unexpired."""
    found: Admission | None = None
    for drop in selling:
        gated = sorted(set(drop.terms.skus) & set(skus))
        if not gated or not drop.terms.waiting_room:
            continue
        phase = drop.phase(now)
        if phase is DropPhase.UPCOMING:
            raise DropNotOpen(f"{', '.join(gated)} go(es) on sale at {drop.opening_local().isoformat()}: "
                              f"join drop {drop.id}'s queue")
        if phase is DropPhase.SOLD_OUT:
            raise OutOfStock(gated)
        if token is None:
            raise AdmissionRequired(drop.id, f"{', '.join(gated)} sell(s) through drop {drop.id}'s waiting room: "
                                             "join its queue and send the admission it gives you")
        found = admissions.verify(token, drop_id=drop.id, holder=holder, now=now)
    return found
