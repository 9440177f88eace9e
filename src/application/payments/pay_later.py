"""Pay later (the manual provider: invoice, cash on delivery) promises stock before any money moves.

So it is offered only where the merchant switched it on for the sales channel and never for SKUs
that require online payment, a shopper may keep only a few such orders (and units) open at once, and
an order not paid by its deadline is cancelled by the payment reconciler, which puts its units back
on sale.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from application.carts.pricing import Channel
from application.orders.ports import OrderReads
from application.payments.errors import OnlinePaymentRequired, PayLaterNotOffered, TooManyUnpaidOrders
from application.ports.rate_limit import RateLimiter
from domain.carts.cart import Owner, OwnerKind

PAY_LATER = "manual"  # the provider that pays later


@dataclass(frozen=True, slots=True, kw_only=True)
class PayLater:
    """How many pay-later orders (and units) one shopper may keep open, and how long one stays open."""

    max_open_orders: int = 2
    max_open_units: int = 10
    deadline: timedelta = timedelta(days=3)
    per_address_per_day: int = 10  # pay-later payments started from one client address in 24 hours

    def pay_by(self, placed_at: datetime) -> datetime:
        return placed_at + self.deadline


async def check_pay_later(
    policy: PayLater, *, channel: Channel, owner: Owner, email: str | None, units: int,
    uow: Callable[[], OrderReads], limiter: RateLimiter, client_ip: str | None, online_only: Collection[str] = (),
) -> None:
    """Refuse a pay-later payment the channel does not offer, or one for a cart holding ``online_only``
    SKUs (those that require online payment), or one over the shopper's open limits (counted over the
    customer or guest, and over the e-mail address, whichever holds more), or one of too many started
    from one client address (a script rotating cookies and addresses)."""
    if not channel.pay_later:
        raise PayLaterNotOffered(f"the {channel.name} channel takes no pay-later payment; pay online")
    if online_only:
        raise OnlinePaymentRequired(sorted(online_only))
    if client_ip:
        started = await limiter.hit(f"pay-later-ip:{client_ip}", limit=policy.per_address_per_day,
                                    window_seconds=24 * 3600)
        if not started.allowed:
            raise TooManyUnpaidOrders("too many pay-later orders from this address today: pay online")
    async with uow() as tx:
        open_orders = await tx.orders.unpaid(
            provider=PAY_LATER, email=email,
            customer_id=owner.id if owner.kind is OwnerKind.CUSTOMER else None,
            guest_id=owner.id if owner.kind is OwnerKind.GUEST else None,
        )
    held = sum(line.quantity for order in open_orders for line in order.lines)
    if len(open_orders) >= policy.max_open_orders or held + units > policy.max_open_units:
        raise TooManyUnpaidOrders(
            f"{len(open_orders)} unpaid orders ({held} units) are open: pay one, or pay this order online"
        )
