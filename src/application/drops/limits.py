"""Who a buyer is, for a drop's purchase limit: every way the checkout knows them, each capped alone.

A drop's ``per_customer_limit`` caps each of its SKUs for each of: the cart's owner (the account when
signed in, else the guest session — one device), the contact e-mail, and the shipping address. A bot
that opens many sessions on one account, or many guest sessions shipping to one address or giving one
e-mail, meets one of the caps. The address is compared in a normalised form (case, spaces and
punctuation ignored), so "1 Main St." and "1 main st" are one address.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterable

from domain.carts.cart import Owner
from domain.drops.drop import Drop
from domain.inventory.limits import Cap
from domain.shared.address import Address


def address_key(address: Address) -> str:
    parts = (address.country, address.postal_code, address.line1, address.line2 or "", address.city)
    text = "|".join("".join(ch for ch in unicodedata.normalize("NFKC", part).casefold() if ch.isalnum())
                    for part in parts)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def buyer_caps(drops: Iterable[Drop], skus: Iterable[str], *, owner: Owner, email: str | None,
               address: Address | None) -> tuple[Cap, ...]:
    """The caps a hold of ``skus`` is placed under: one per capped SKU and way of knowing the buyer."""
    held = set(skus)
    buyers = [f"owner:{owner.kind.value}:{owner.id}"]
    if email:
        buyers.append(f"email:{email.strip().casefold()}")
    if address is not None:
        buyers.append(f"address:{address_key(address)}")
    return tuple(
        Cap(sku=sku, buyer=f"{drop.id}:{buyer}", limit=drop.terms.per_customer_limit)
        for drop in drops if drop.terms.per_customer_limit is not None
        for sku in drop.terms.skus if sku in held
        for buyer in buyers
    )


def online_only(drops: Iterable[Drop], skus: Iterable[str]) -> set[str]:
    """The SKUs among ``skus`` that a drop sells for online payment only."""
    held = set(skus)
    return {sku for drop in drops if drop.terms.online_payment_only for sku in drop.terms.skus if sku in held}
