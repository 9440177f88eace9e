from __future__ import annotations

import msgspec


class Availability(msgspec.Struct, frozen=True, kw_only=True):
    """Storefront availability of a SKU; ``quantity`` only when the merchant shows it."""

    sku: str
    status: str
    quantity: int | None = None
