"""Every aggregate a unit of work saves optimistically, each with one way to add, load, change and save it,
for the unit-of-work contract's save semantics (``tests/contract/test_unit_of_work.py``)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from application.promotions.ports import Limits
from domain.carts.cart import Owner
from domain.catalog.categories import TREE_ID
from domain.catalog.collections import Collection
from domain.catalog.pricing import Price, PriceList
from domain.catalog.product import Product, Variant
from domain.checkout.checkout import Checkout
from domain.customers.customer import Customer
from domain.giftcards.giftcard import GiftCard
from domain.promotions.promotion import Promotion, PromotionTerms
from domain.promotions.text import parse
from tests.support.orders import new_order

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


@dataclass(frozen=True)
class Versioned:
    """How a test reaches one kind of aggregate through a unit of work (``tx``)."""

    name: str
    locked: bool  # loaded under a row lock in PostgreSQL: a second unit of work waits instead of racing
    seed: Callable[[Any, str], Awaitable[str]]  # adds one (unique suffix), returns its key
    load: Callable[[Any, str], Awaitable[Any]]
    change: Callable[[Any, int], None]  # the n-th change
    look: Callable[[Any], Any]  # what the changes show
    save: Callable[[Any, Any], Awaitable[None]]

    def __str__(self) -> str:
        return self.name


async def _add_product(tx: Any, u: str) -> str:
    await tx.products.add(Product.create(id=f"vp-{u}", name=f"Versioned {u}", variants=(Variant(sku=f"VP-{u}"),),
                                         now=NOW))
    return f"vp-{u}"


async def _add_price_list(tx: Any, u: str) -> str:
    await tx.price_lists.add(PriceList(id=f"vpl-{u}", name=f"List {u}", currency="EUR", channel=f"ch-{u}"))
    return f"vpl-{u}"


async def _the_tree(tx: Any, u: str) -> str:
    return TREE_ID  # there is one tree, always there


async def _add_collection(tx: Any, u: str) -> str:
    await tx.collections.add(Collection.create(id=f"vc-{u}", name=f"Picks {u}", slug=f"picks-{u}", now=NOW))
    return f"vc-{u}"


async def _add_customer(tx: Any, u: str) -> str:
    await tx.customers.add(Customer.register(customer_id=f"vcu-{u}", email=f"v-{u}@example.com", name="Ada",
                                             password_hash="hash", now=NOW))
    return f"vcu-{u}"


async def _add_checkout(tx: Any, u: str) -> str:
    await tx.checkouts.add(Checkout.start(checkout_id=f"vco-{u}", owner=Owner.guest(f"g-{u}"), cart_id=f"cart-{u}",
                                          currency="EUR", channel="web", email=None, now=NOW))
    return f"vco-{u}"


async def _add_order(tx: Any, u: str) -> str:
    order = new_order(f"v-{u}")
    await tx.orders.add(order)
    return order.id


async def _add_gift_card(tx: Any, u: str) -> str:
    card = GiftCard.issue(code=f"VGC{u}".upper(), amount=5000, currency="EUR", actor="test", now=NOW)
    await tx.gift_cards.add(card)
    return card.code


TERMS = PromotionTerms(name="Ten off", rule=parse("when subtotal >= 50.00 EUR then 10.00 EUR off order"))


async def _add_promotion(tx: Any, u: str) -> str:
    await tx.promotions.add(Promotion.create(id=f"vpr-{u}", terms=TERMS, now=NOW), Limits())
    return f"vpr-{u}"


async def _load_promotion(tx: Any, key: str) -> Promotion:
    promotion, _ = await tx.promotions.get(key)
    return promotion


def _add_category(tree: Any, n: int) -> None:
    suffix = f"{n}-{uuid.uuid4().hex[:10]}"  # the one tree is shared by every test
    tree.add(id=f"vcat-{suffix}", name=f"Versioned {suffix}", slug=f"vcat-{suffix}", parent_id=None, position=None,
             now=NOW)


KINDS = [
    Versioned("product", False, _add_product, lambda tx, k: tx.products.get(k),
              lambda p, n: p.revise(now=NOW, description=f"change {n}"), lambda p: p.description,
              lambda tx, p: tx.products.save(p)),
    Versioned("price list", True, _add_price_list, lambda tx, k: tx.price_lists.get(k, skus=[f"SKU-{k}"]),
              lambda pl, n: pl.set_prices([Price(sku=f"SKU-{pl.id}", amount=100 + n)], now=NOW),
              lambda pl: pl.prices[f"SKU-{pl.id}"].amount, lambda tx, pl: tx.price_lists.save(pl)),
    Versioned("category tree", True, _the_tree, lambda tx, k: tx.categories.tree(), _add_category,
              lambda t: len(t.nodes), lambda tx, t: tx.categories.save(t)),
    Versioned("collection", True, _add_collection, lambda tx, k: tx.collections.get(k),
              lambda c, n: c.arrange([f"p-{i}" for i in range(n)], now=NOW), lambda c: c.product_ids,
              lambda tx, c: tx.collections.save(c)),
    Versioned("customer", False, _add_customer, lambda tx, k: tx.customers.get(k),
              lambda c, n: c.update_profile(name=f"Ada {n}"), lambda c: c.name, lambda tx, c: tx.customers.save(c)),
    Versioned("checkout", False, _add_checkout, lambda tx, k: tx.checkouts.get(k),
              lambda c, n: c.set_contact(f"n{n}@example.com", now=NOW), lambda c: c.email,
              lambda tx, c: tx.checkouts.save(c)),
    Versioned("order", False, _add_order, lambda tx, k: tx.orders.get(k),
              lambda o, n: o.note(action=f"note-{n}", detail="", now=NOW + timedelta(seconds=n), actor="test"),
              lambda o: [e.action for e in o.timeline], lambda tx, o: tx.orders.save(o)),
    Versioned("gift card", True, _add_gift_card, lambda tx, k: tx.gift_cards.get(k),
              lambda g, n: g.redeem(n, reference=f"order-{n}", now=NOW), lambda g: g.balance,
              lambda tx, g: tx.gift_cards.save(g)),
    Versioned("promotion", False, _add_promotion, _load_promotion,
              lambda p, n: p.schedule(starts_at=NOW + timedelta(days=n), ends_at=None, now=NOW),
              lambda p: p.starts_at, lambda tx, p: tx.promotions.save(p, Limits())),
]
RACED = [kind for kind in KINDS if not kind.locked]  # a locked one cannot be changed by two at once
