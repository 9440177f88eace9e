"""Purchase limits: how many units of a SKU one buyer may hold (issue 22).

A drop caps each of its SKUs per buyer, and a buyer is known several ways at once — the account, the
session or device, the e-mail, the shipping address — each a ``Cap`` of its own, so a bot opening many
sessions on one account, or many accounts shipping to one address, meets one of them. What a buyer
holds is counted from the holds that still count (active, sold or shipped), at the moment the new hold
is placed with the stock rows locked, so two checkouts of one buyer cannot both slip under the cap.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class Cap:
    sku: str
    buyer: str  # one way of knowing the buyer, e.g. "<drop>:customer:<id>"
    limit: int  # units of ``sku`` that buyer may hold, >= 1


def over(caps: Iterable[Cap], requested: Mapping[str, int], held: Mapping[tuple[str, str], int]) -> list[Cap]:
    """The caps a hold of ``requested`` would break, given what each (SKU, buyer) ``held`` already (a cap
    on a SKU the hold does not ask for is not its to break)."""
    return [cap for cap in caps
            if requested.get(cap.sku, 0) > 0 and held.get((cap.sku, cap.buyer), 0) + requested[cap.sku] > cap.limit]


def refusal_of(broken: list[Cap]) -> tuple[list[str], int]:
    """What to tell the buyer: the SKUs capped, and the strictest of their limits."""
    return sorted({cap.sku for cap in broken}), min(cap.limit for cap in broken)
