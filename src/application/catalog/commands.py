from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateProduct:
    name: str
    sku: str
    price_amount: int
    currency: str
    slug: str | None = None
