"""The carts context's public write helper for other contexts: ``change`` applies a change to the
owner's cart and saves it, reloading and re-applying on a concurrent save (checkout retires the cart
with it after placing the order; the cart use cases in ``handlers`` use it too)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from application.carts.errors import CartNotFound
from application.carts.ports import CartStore
from application.carts.queries import load
from application.messaging.retry import retry_on_conflict
from domain.carts.cart import Cart, Owner, OwnerKind

ATTEMPTS = 30  # many shoppers' tabs may race on one cart: more tries than a staff action gets
T = TypeVar("T")


async def change(
    owner: Owner, store: CartStore, mutate: Callable[[Cart], T], *, create: Callable[[], Cart] | None = None,
    new_owner: bool = False,
) -> tuple[Cart, T]:
    """Apply ``mutate`` to the owner's cart and save it; on a concurrent save, reload (past the cache)
    and re-apply (``retry_on_conflict``). ``new_owner``: the owner was minted by this request, so the
    first attempt creates the cart without looking for one (a conflict then still reloads)."""
    fresh = False
    first = True

    async def attempt() -> tuple[Cart, T]:
        nonlocal fresh, first
        known_absent, first = first and new_owner and create is not None, False
        cart = None if known_absent else await load(owner, store, fresh=fresh)
        fresh = True  # a retry reads the durable copy: the cached one may be what was stale
        if known_absent:
            assert create is not None
            cart = create()
        if cart is None:
            if create is None:
                raise CartNotFound("no cart")
            cart = await _reopened(owner, store) or create()
        result = mutate(cart)
        await store.save(cart)
        return cart, result

    return await retry_on_conflict(attempt, attempts=ATTEMPTS)


async def _reopened(owner: Owner, store: CartStore) -> Cart | None:
    """After a checkout (or a merge) the guest's cookie still names the retired cart: reuse its row."""
    if owner.kind is not OwnerKind.GUEST:
        return None
    retired = await store.get(owner.id, fresh=True)
    if retired is None or retired.owner != owner or not retired.retired:
        return None
    retired.reopen(now=retired.updated_at)
    return retired
