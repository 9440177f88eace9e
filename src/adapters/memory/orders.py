"""In-memory checkouts and orders (the fakes of the PostgreSQL repositories)."""

from __future__ import annotations

import copy
from typing import Any

from adapters.memory.versions import MemoryVersions
from application.orders.errors import OrderNotFound
from application.orders.read_models import DailySales, OrderPage
from application.orders.views import cursor_after, matches, next_cursor
from domain.checkout.checkout import Checkout
from domain.orders.order import Order, OrderStatus
from domain.shared.errors import Conflict, NotFound
from domain.shared.events import Aggregate


class _Versioned:
    def __init__(self, rows: dict[str, Any], seen: list[Aggregate], versions: MemoryVersions, table: str,
                 label: str) -> None:
        self._rows = rows
        self._seen = seen
        self._versions = versions
        self._table = table
        self._label = label

    def _track(self, item: Any) -> None:
        self._seen.append(item)
        self._versions.remember(self._label, item.id, item.version)

    def _get(self, key: str) -> Any:
        try:
            found = copy.deepcopy(self._rows[key])
        except KeyError:
            raise (OrderNotFound if self._label == "order" else NotFound)(f"no {self._label} {key}") from None
        found.events = []  # stored copies may hold events staged before their commit; those were written
        self._track(found)
        return found

    def _save(self, item: Any) -> None:
        stored = self._versions.database.extra.get(self._table, {}).get(item.id)
        if not self._versions.changed(self._label, item.id, item.version,
                                      stored=None if stored is None else stored.version):
            return  # unchanged since it was loaded
        self._rows[item.id] = copy.deepcopy(item)
        self._versions.saved(self._label, item.id, item.version)


class MemoryCheckouts(_Versioned):
    def __init__(self, data: dict[str, Any], seen: list[Aggregate], versions: MemoryVersions) -> None:
        super().__init__(data.setdefault("checkouts", {}), seen, versions, "checkouts", "checkout")

    async def add(self, checkout: Checkout) -> None:
        self._rows[checkout.id] = copy.deepcopy(checkout)
        self._track(checkout)

    async def get(self, checkout_id: str) -> Checkout:
        found: Checkout = self._get(checkout_id)
        return found

    async def save(self, checkout: Checkout) -> None:
        self._save(checkout)

    def track(self, checkout: Checkout) -> None:
        self._track(checkout)


class MemoryOrders(_Versioned):
    def __init__(self, data: dict[str, Any], seen: list[Aggregate], versions: MemoryVersions) -> None:
        super().__init__(data.setdefault("orders", {}), seen, versions, "orders", "order")

    async def add(self, order: Order) -> None:
        if any(o.checkout_id == order.checkout_id for o in self._rows.values()):
            raise Conflict(f"checkout {order.checkout_id} already has an order")
        self._rows[order.id] = copy.deepcopy(order)
        self._track(order)

    async def get(self, order_id: str) -> Order:
        found: Order = self._get(order_id)
        return found

    async def by_checkout(self, checkout_id: str) -> Order | None:
        found = next((o.id for o in self._rows.values() if o.checkout_id == checkout_id), None)
        return await self.get(found) if found else None

    async def by_payment(self, reference: str) -> Order | None:
        found = next((o.id for o in self._rows.values() if o.has_payment(reference)), None)
        return await self.get(found) if found else None

    async def save(self, order: Order) -> None:
        self._save(order)

    async def all(self) -> list[Order]:
        return [copy.deepcopy(o) for o in self._rows.values()]

    async def has_orders(self, customer_id: str) -> bool:
        return any(o.customer_id == customer_id for o in self._rows.values())

    async def unpaid(
        self, *, provider: str, email: str | None, customer_id: str | None, guest_id: str | None,
    ) -> list[Order]:
        found = sorted(
            (o for o in self._rows.values()
             if o.status is OrderStatus.PENDING and o.payment_provider == provider
             and ((email and o.email == email) or (customer_id and o.customer_id == customer_id)
                  or (guest_id and o.guest_id == guest_id))),
            key=lambda o: o.placed_at,
        )
        return [await self.get(o.id) for o in found]

    async def pending_payments(self, *, provider: str, placed_before: Any, limit: int) -> list[Order]:
        found = sorted(
            (o for o in self._rows.values()
             if o.status is OrderStatus.PENDING and o.payment_provider == provider and o.placed_at < placed_before),
            key=lambda o: o.placed_at,
        )
        return [await self.get(o.id) for o in found[:limit]]


class MemoryOrderViews:
    def __init__(self, data: dict[str, Any]) -> None:
        self._summaries: dict[str, Any] = data.setdefault("order_summaries", {})
        self._sales: dict[tuple[Any, str], dict[str, int]] = data.setdefault("daily_sales", {})

    async def put_summary(self, summary: Any) -> None:
        stored = self._summaries.get(summary.id)
        if stored is None or stored.version < summary.version:
            self._summaries[summary.id] = summary

    async def page(self, query: Any) -> Any:
        rows = sorted(self._summaries.values(), key=lambda s: (s.placed_at, s.id), reverse=True)
        rows = [s for s in rows if matches(s, query) and cursor_after(s, query.cursor)]
        items = rows[: query.limit]
        return OrderPage(items=items, next_cursor=next_cursor(items, more=len(rows) > query.limit))

    async def add_sales(self, delta: Any) -> None:
        row = self._sales.setdefault((delta.day, delta.currency), dict.fromkeys(
            ("orders", "gross", "discounts", "tax", "shipping", "refunds"), 0))
        for name in row:
            row[name] += getattr(delta, name)

    async def sales(self, *, start: Any, end: Any) -> list[Any]:
        return [
            DailySales(day=day, currency=currency, net=row["gross"] - row["refunds"], **row)
            for (day, currency), row in sorted(self._sales.items()) if start <= day <= end
        ]

    async def clear(self) -> None:
        self._summaries.clear()
        self._sales.clear()
