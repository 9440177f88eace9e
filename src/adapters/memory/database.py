"""What the fakes persist: plain dicts, copied whole into each unit of work and back on commit."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from adapters.memory.inventory import InventoryData
from application.catalog.read_models import ProductDocument
from application.ports.outbox import OutboxMessage
from application.staff.ports import StaffToken
from domain.catalog.pricing import PriceList
from domain.catalog.product import Product


class Shared(dict[str, Any]):
    """Rows a unit of work does not copy: written outside any unit of work too (the durable carts),
    so a unit of work's commit must not put back the copy it took when it began."""

    def __deepcopy__(self, memo: dict[int, Any]) -> Shared:
        return self


@dataclass
class MemoryDatabase:
    """Everything the fakes persist, in plain dicts."""

    products: dict[str, Product] = field(default_factory=dict)
    price_lists: dict[str, PriceList] = field(default_factory=dict)
    staff_tokens: dict[str, StaffToken] = field(default_factory=dict)
    outbox: list[OutboxMessage] = field(default_factory=list)
    published: dict[str, datetime] = field(default_factory=dict)  # message id -> when it was published
    processed: set[tuple[str, str]] = field(default_factory=set)
    product_documents: dict[str, ProductDocument] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    inventory: InventoryData = field(default_factory=InventoryData)
    outbox_seq: int = 0
    carts: Shared = field(default_factory=Shared)  # durable carts: id -> (cart, expires_at)
    invoicing: Shared = field(default_factory=Shared)  # documents and counters, written only by commits
