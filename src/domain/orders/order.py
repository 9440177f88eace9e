"""The order: what was bought, at which prices, and everything that happened to it since.

State machine (ARCHITECTURE.md)::

    pending ──pay──▶ paid ──fulfil──▶ fulfilled ──ship──▶ shipped ──deliver──▶ delivered
       └─cancel──▶ cancelled     paid… ──refund──▶ partially_refunded / refunded
                                 paid… ──dispute──▶ disputed ──resolve──▶ (previous | refunded)

Every transition appends to the timeline (who, when, what, from → to) and records an event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.orders.errors import InvalidTransition, RefundTooLarge
from domain.orders.events import OrderEvent, OrderPaid, OrderPlaced, OrderRefunded, OrderStatusChanged
from domain.orders.records import (
    AFTER_PAYMENT,
    AppliedPromotion,
    Fulfilment,
    OrderLine,
    OrderStatus,
    PaymentRecord,
    RefundRecord,
    TaxLine,
    TimelineEntry,
    Totals,
)
from domain.shared.address import Address
from domain.shared.errors import InvalidInput
from domain.shared.events import Aggregate, DomainEvent

__all__ = [  # the records and events live beside the aggregate; this module stays the one to import
    "AFTER_PAYMENT", "AppliedPromotion", "Fulfilment", "InvalidTransition", "Order", "OrderEvent", "OrderLine",
    "OrderPaid", "OrderPlaced", "OrderRefunded", "OrderStatus", "OrderStatusChanged", "PaymentRecord",
    "RefundRecord", "RefundTooLarge", "TaxLine", "TimelineEntry", "Totals",
]


S = OrderStatus


@dataclass(kw_only=True)
class Order(Aggregate):
    id: str
    number: str
    checkout_id: str
    customer_id: str | None
    email: str
    channel: str
    lines: tuple[OrderLine, ...]
    tax_lines: tuple[TaxLine, ...]
    totals: Totals
    shipping_address: Address
    billing_address: Address
    shipping_method: str
    placed_at: datetime
    status: OrderStatus = OrderStatus.PENDING
    payment_provider: str = "manual"
    gift_card_code: str | None = None
    gift_card_amount: int = 0  # paid from a gift card when the order was placed
    reservation_id: str | None = None  # the checkout's stock hold: committed or released with the order
    guest_id: str | None = None  # the guest who placed it (a customer's orders carry ``customer_id``)
    payments: list[PaymentRecord] = field(default_factory=list)
    refunds: list[RefundRecord] = field(default_factory=list)
    fulfilments: list[Fulfilment] = field(default_factory=list)
    captured: int = 0
    dispute_previous: OrderStatus | None = None
    dispute_id: str | None = None
    dispute_deadline: datetime | None = None
    timeline: list[TimelineEntry] = field(default_factory=list)
    version: int = 0
    events: list[DomainEvent] = field(default_factory=list, repr=False)

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def place(cls, *, actor: str, now: datetime, **fields: Any) -> Order:
        order = cls(placed_at=now, version=1, **fields)
        order._log(now, actor, "placed", None, OrderStatus.PENDING, f"total {order.totals.total}")
        order._record(OrderPlaced(
            **order._event_base(now), email=order.email, checkout_id=order.checkout_id,
            total=order.totals.total, subtotal=order.totals.subtotal, discount=order.totals.discount,
            shipping=order.totals.shipping, tax=order.totals.tax,
            lines=tuple((line.sku, line.quantity, line.total) for line in order.lines),
            promotions=tuple(
                (p.promotion_id, p.version, p.amount) for line in order.lines for p in line.promotions
            ),
        ))
        return order

    # -- helpers ------------------------------------------------------------------------------

    def _event_base(self, now: datetime) -> dict[str, Any]:
        return {
            "aggregate_id": self.id, "aggregate_version": self.version, "occurred_at": now,
            "customer_id": self.customer_id, "currency": self.totals.currency, "status": self.status.value,
        }

    def _log(self, now: datetime, actor: str, action: str, before: OrderStatus | None, after: OrderStatus,
             detail: str) -> None:
        self.timeline.append(TimelineEntry(
            at=now, actor=actor, action=action, from_status=before.value if before else None,
            to_status=after.value, detail=detail,
        ))

    def _move(self, to: OrderStatus, *, allowed_from: frozenset[OrderStatus] | set[OrderStatus], action: str,
              now: datetime, actor: str, detail: str = "") -> OrderStatus:
        if self.status not in allowed_from:
            raise InvalidTransition(f"cannot {action} an order that is {self.status.value}")
        before = self.status
        self.status = to
        self.version += 1
        self._log(now, actor, action, before, to, detail)
        self._record(OrderStatusChanged(**self._event_base(now), from_status=before.value, action=action))
        return before

    @property
    def refunded(self) -> int:
        return sum(r.amount for r in self.refunds)

    @property
    def refundable(self) -> int:
        return self.captured - self.refunded

    @property
    def refundable_online(self) -> int:
        """What the payment provider can still give back (the rest goes back onto the gift card)."""
        online = self.captured - self.gift_card_amount
        back = sum(r.amount for r in self.refunds if not r.reference.startswith("giftcard:"))
        return max(online - back, 0)

    def has_payment(self, reference: str) -> bool:
        return any(p.reference == reference for p in self.payments)

    # -- payment ------------------------------------------------------------------------------

    def attach_payment(self, *, provider: str, reference: str, now: datetime, actor: str) -> None:
        if self.has_payment(reference):
            return
        self.payment_provider = provider
        self.payments.append(PaymentRecord(provider=provider, reference=reference, amount=self.totals.total,
                                           status="pending"))
        self.version += 1
        self._log(now, actor, "payment_started", self.status, self.status, f"{provider} {reference}")

    def pay(self, *, reference: str, amount: int, now: datetime, actor: str) -> bool:
        """Record the captured payment. False (no change) when this payment was already recorded."""
        if any(p.reference == reference and p.status == "succeeded" for p in self.payments):
            return False
        due = self.totals.total - self.gift_card_amount
        if amount != due:
            raise InvalidInput(f"payment of {amount} does not match the {due} due")
        self._move(S.PAID, allowed_from={S.PENDING}, action="pay", now=now, actor=actor, detail=reference)
        self.captured = amount + self.gift_card_amount
        self.payments = [p for p in self.payments if p.reference != reference] + [
            PaymentRecord(provider=self.payment_provider, reference=reference, amount=amount, status="succeeded")
        ]
        self._record(OrderPaid(**self._event_base(now), amount=amount, payment_reference=reference))
        return True

    def note(self, *, action: str, detail: str, now: datetime, actor: str) -> None:
        """Something worth the support team's attention that changes no state (an orphan payment
        refunded, a stock shortfall being settled)."""
        self.version += 1
        self._log(now, actor, action, self.status, self.status, detail)

    def noted(self, action: str) -> bool:
        return any(entry.action == action for entry in self.timeline)

    def payment_failed(self, *, reference: str, now: datetime, actor: str, reason: str = "") -> bool:
        """A failed attempt while pending is logged; after payment (a stale event) it changes nothing."""
        if self.status is not S.PENDING:
            return False
        self.version += 1
        self._log(now, actor, "payment_failed", self.status, self.status, f"{reference} {reason}".strip())
        return True

    # -- cancellation and refunds ---------------------------------------------------------------

    def cancel(self, *, now: datetime, actor: str, reason: str, refund_reference: str | None = None) -> None:
        """From pending; from paid only together with a full refund of what was captured."""
        if self.status is S.PAID:
            if refund_reference is None:
                raise InvalidTransition("a paid order is cancelled with a full refund")
            amount = self.refundable
            self.refunds.append(RefundRecord(reference=refund_reference, amount=amount, reason=reason, at=now))
            self._move(S.CANCELLED, allowed_from={S.PAID}, action="cancel", now=now, actor=actor,
                       detail=f"refunded {amount}: {reason}")
            self._record(OrderRefunded(**self._event_base(now), amount=amount, refund_reference=refund_reference))
            return
        self._move(S.CANCELLED, allowed_from={S.PENDING}, action="cancel", now=now, actor=actor, detail=reason)

    def refund(self, *, amount: int, reference: str, reason: str, now: datetime, actor: str) -> None:
        if any(r.reference == reference for r in self.refunds):
            return  # the same refund reported again
        if self.status not in AFTER_PAYMENT:
            raise InvalidTransition(f"cannot refund an order that is {self.status.value}")
        if amount <= 0:
            raise InvalidInput("a refund is a positive amount")
        if amount > self.refundable:
            raise RefundTooLarge(f"at most {self.refundable} can be refunded")
        after = S.REFUNDED if amount == self.refundable else S.PARTIALLY_REFUNDED
        self.refunds.append(RefundRecord(reference=reference, amount=amount, reason=reason, at=now))
        self._move(after, allowed_from=AFTER_PAYMENT, action="refund", now=now, actor=actor,
                   detail=f"{amount} {reason}")
        self._record(OrderRefunded(**self._event_base(now), amount=amount, refund_reference=reference))

    # -- fulfilment ------------------------------------------------------------------------------

    def fulfil(self, *, fulfilment_id: str, lines: dict[str, int], now: datetime, actor: str) -> Fulfilment:
        """Pack ``lines`` (line id → quantity); the order is fulfilled once every unit is packed.
        A partly refunded order (a goodwill refund, say) still ships."""
        if self.status not in (S.PAID, S.PARTIALLY_REFUNDED):
            raise InvalidTransition(f"cannot fulfil an order that is {self.status.value}")
        if not lines:
            raise InvalidInput("a fulfilment packs at least one unit")
        remaining = self.unfulfilled()
        for line_id, quantity in lines.items():
            if quantity <= 0 or quantity > remaining.get(line_id, 0):
                raise InvalidInput(f"line {line_id}: at most {remaining.get(line_id, 0)} left to fulfil")
        fulfilment = Fulfilment(id=fulfilment_id, lines=tuple(sorted(lines.items())))
        self.fulfilments.append(fulfilment)
        if all(v == 0 for v in self.unfulfilled().values()):
            self._move(S.FULFILLED, allowed_from={S.PAID, S.PARTIALLY_REFUNDED}, action="fulfil", now=now,
                       actor=actor)
        else:
            self.version += 1
            self._log(now, actor, "fulfil_partly", self.status, self.status, fulfilment_id)
        return fulfilment

    def unfulfilled(self) -> dict[str, int]:
        packed: dict[str, int] = {}
        for fulfilment in self.fulfilments:
            for line_id, quantity in fulfilment.lines:
                packed[line_id] = packed.get(line_id, 0) + quantity
        return {line.id: line.quantity - packed.get(line.id, 0) for line in self.lines}

    def ship(self, *, carrier: str, tracking_number: str, now: datetime, actor: str) -> None:
        if not carrier.strip() or not tracking_number.strip():
            raise InvalidInput("a carrier and a tracking number are required")
        packed_not_shipped = (
            self.status is S.PARTIALLY_REFUNDED and not any(self.unfulfilled().values())
            and not any(f.shipped_at for f in self.fulfilments)
        )
        self._move(S.SHIPPED, allowed_from={S.FULFILLED, S.PARTIALLY_REFUNDED} if packed_not_shipped else {S.FULFILLED},
                   action="ship", now=now, actor=actor, detail=f"{carrier} {tracking_number}")
        self.fulfilments = [
            Fulfilment(id=f.id, lines=f.lines, carrier=carrier, tracking_number=tracking_number, shipped_at=now)
            for f in self.fulfilments
        ]

    def deliver(self, *, now: datetime, actor: str) -> None:
        self._move(S.DELIVERED, allowed_from={S.SHIPPED}, action="deliver", now=now, actor=actor)

    # -- disputes ------------------------------------------------------------------------------

    def open_dispute(self, *, dispute_id: str, deadline: datetime | None, now: datetime, actor: str) -> bool:
        if self.status is S.DISPUTED and self.dispute_id == dispute_id:
            self.dispute_deadline = deadline or self.dispute_deadline
            return False
        before = self._move(S.DISPUTED, allowed_from=AFTER_PAYMENT, action="dispute", now=now, actor=actor,
                            detail=dispute_id)
        self.dispute_previous = before
        self.dispute_id = dispute_id
        self.dispute_deadline = deadline
        return True

    def close_dispute(self, *, won: bool, refund_reference: str, now: datetime, actor: str) -> bool:
        if self.status is not S.DISPUTED:
            return False  # a repeated or stale "closed" event
        previous = self.dispute_previous or S.PAID
        if won:
            self._move(previous, allowed_from={S.DISPUTED}, action="dispute_won", now=now, actor=actor)
        else:
            # A chargeback takes back what the card paid; a gift card's share stays refundable to the card.
            amount = self.refundable_online
            if amount > 0:
                self.refunds.append(RefundRecord(reference=refund_reference, amount=amount, reason="dispute lost",
                                                 at=now))
            after = S.REFUNDED if self.refundable == 0 else S.PARTIALLY_REFUNDED
            self._move(after, allowed_from={S.DISPUTED}, action="dispute_lost", now=now, actor=actor)
            if amount > 0:
                self._record(OrderRefunded(**self._event_base(now), amount=amount, refund_reference=refund_reference))
        self.dispute_previous = None
        return True
