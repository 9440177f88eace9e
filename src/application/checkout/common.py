"""What the checkout use cases share: the view, loading and changing a checkout, releasing a stock
hold, and pricing the checkout's cart for its parcel."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from typing import Any

from application.carts import queries as carts
from application.carts.ports import CartStore, PromotionEngine
from application.carts.pricing import Channels, price_cart
from application.carts.read_models import CartView
from application.catalog.queries import variant_weights
from application.catalog.snapshot import CatalogReads
from application.checkout.errors import CheckoutNotFound, EmptyCart
from application.checkout.ports import CheckoutUnitOfWork
from application.checkout.read_models import CheckoutView
from application.inventory.commands import ReleaseReservation
from application.inventory.queries import StockStatuses
from application.messaging.registry import Dispatch
from application.messaging.retry import retry_on_conflict
from domain.carts.cart import Owner
from domain.checkout.checkout import Checkout, CheckoutIncomplete
from domain.inventory.errors import ReservationClosed
from domain.shared.errors import NotFound
from domain.tax.rates import RateTable

Uow = Callable[[], CheckoutUnitOfWork]
NO_ESTIMATE = RateTable()  # price_cart's cart-page estimate; checkout computes the real tax itself


def view(checkout: Checkout) -> CheckoutView:
    snap = checkout.snapshot
    return CheckoutView(
        id=checkout.id, state=checkout.state.value, next_step=checkout.next_step, currency=checkout.currency,
        channel=checkout.channel, email=checkout.email,
        shipping_address=asdict(checkout.shipping_address) if checkout.shipping_address else None,
        billing_address=asdict(checkout.billing_address) if checkout.billing_address else None,
        shipping_method=checkout.shipping_method, payment_provider=checkout.payment_provider,
        totals=None if snap is None else {
            "subtotal": snap.subtotal, "discount": snap.discount, "shipping": snap.shipping, "tax": snap.tax,
            "total": snap.total, "prices_include_tax": snap.prices_include_tax,
        },
        lines=list(snap.lines) if snap else [], tax_lines=list(snap.tax_lines) if snap else [],
        order_id=checkout.order_id, version=checkout.version,
    )


async def load_checkout(uow: Uow, owner: Owner, checkout_id: str) -> Checkout:
    async with uow() as tx:
        try:
            checkout = await tx.checkouts.get(checkout_id)
        except NotFound:
            raise CheckoutNotFound(f"no checkout {checkout_id}") from None
    if checkout.owner != owner:
        raise CheckoutNotFound(f"no checkout {checkout_id}")  # someone else's: as good as absent
    return checkout


async def change_checkout(uow: Uow, owner: Owner, checkout_id: str, change: Callable[[Checkout], str | None],
                          dispatch: Dispatch, *, loaded: Checkout | None = None) -> Checkout:
    """Apply ``change`` and save. ``loaded``: the checkout as this request already read it (no second
    read); should someone have saved it since, the change is applied again to a fresh read."""
    first = loaded

    async def attempt() -> tuple[Checkout, str | None]:
        nonlocal first
        async with uow() as tx:
            if first is not None:
                checkout, first = first, None
                tx.checkouts.track(checkout)
            else:
                checkout = await tx.checkouts.get(checkout_id)
            if checkout.owner != owner:
                raise CheckoutNotFound(f"no checkout {checkout_id}")
            released = change(checkout)
            await tx.checkouts.save(checkout)
            await tx.commit()
        return checkout, released

    checkout, released = await retry_on_conflict(attempt)
    if released:
        await release_hold(dispatch, released)
    return checkout


async def release_hold(dispatch: Dispatch, reservation_id: str) -> None:
    with contextlib.suppress(ReservationClosed):  # expired or already released: the units are back either way
        await dispatch(ReleaseReservation(reservation_id=reservation_id))


async def parcel_of(checkout: Checkout, priced: CartView, catalog: CatalogReads) -> dict[str, Any]:
    address = checkout.shipping_address
    if address is None:
        raise CheckoutIncomplete("give an address first")
    weights = await variant_weights([line.sku for line in priced.lines], catalog=catalog)
    return {
        "country": address.country, "region": address.region, "currency": checkout.currency,
        "goods": priced.subtotal - priced.discount,
        "weight_grams": sum(weights.get(line.sku, 0) * line.quantity for line in priced.lines if line.available),
    }


async def priced_cart(checkout: Checkout, *, store: CartStore, statuses: StockStatuses, catalog: CatalogReads,
                      promotions: PromotionEngine, channels: Channels, at: datetime) -> tuple[Any, CartView]:
    # The cached copy: it is never older than a save that succeeded, and place compares the frozen
    # cart version with the durable copy (a cart changed since payment is refused there).
    cart = await carts.load(checkout.owner, store)
    if cart is None or cart.id != checkout.cart_id or cart.is_empty:
        raise EmptyCart("the cart of this checkout is empty or gone")
    priced = await price_cart(cart, statuses=statuses, catalog=catalog, promotions=promotions,
                              channel=channels.get(cart.channel),
                              rates=NO_ESTIMATE, at=at)
    return cart, priced

