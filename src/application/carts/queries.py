"""The carts context's published reads: checkout loads the shopper's cart with ``load``. The cart's
price on read is ``application.carts.pricing.price_cart``; changes are in ``handlers`` (``api`` for
the one change another context makes)."""

from __future__ import annotations

from application.carts.ports import CartStore
from domain.carts.cart import Cart, Owner, OwnerKind


async def load(owner: Owner, store: CartStore, *, fresh: bool = False) -> Cart | None:
    """The owner's active cart. A guest owns the cart whose id is their signed token — nobody else's."""
    if owner.kind is OwnerKind.CUSTOMER:
        return await store.for_customer(owner.id, fresh=fresh)
    cart = await store.get(owner.id, fresh=fresh)
    if cart is None or cart.owner != owner or cart.retired:
        return None
    return cart
