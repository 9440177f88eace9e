"""Cart use cases: load the owner's cart, change it, save it optimistically (retrying on a race)."""

from __future__ import annotations

from collections.abc import Callable

from application.carts.api import ATTEMPTS, change
from application.carts.commands import (
    AddCartLine,
    ApplyCoupon,
    ChangeCartLine,
    MergeGuestCart,
    RemoveCartLine,
    RemoveCoupon,
    ViewCart,
)
from application.carts.errors import CouponGuessesLimited, NotPurchasable, UnknownCoupon, UnknownSku
from application.carts.ports import CartStore, PromotionEngine
from application.carts.pricing import Channel, Channels, empty_view, price_cart, stock_of
from application.carts.queries import load
from application.carts.read_models import CartView, MergeView
from application.catalog.queries import offers
from application.catalog.snapshot import CatalogReads
from application.drops.admission import AdmissionTokens, admission_needed, holder_of
from application.drops.live import LiveDrops
from application.inventory.ports import StockGate
from application.inventory.queries import StockStatuses
from application.messaging.registry import handler
from application.messaging.retry import retry_on_conflict
from application.ports.clock import Clock, IdGenerator
from application.ports.rate_limit import RateLimiter, Throttle
from domain.carts.cart import Cart, MergeReport, Owner, OwnerKind, normalise_code
from domain.inventory.errors import OutOfStock
from domain.tax.rates import RateTable

COUPON_GUESSES = Throttle(free=10, first_delay_seconds=2, max_delay_seconds=300, window_seconds=900)


def _new_cart(owner: Owner, *, ids: IdGenerator, clock: Clock, channel: Channel) -> Callable[[], Cart]:
    def create() -> Cart:
        now = clock.now()
        cart_id = owner.id if owner.kind is OwnerKind.GUEST else ids.new_id()
        return Cart(id=cart_id, owner=owner, currency=channel.currency, channel=channel.name,
                    created_at=now, updated_at=now)
    return create


@handler
async def add_line(
    command: AddCartLine, *, cart_store: CartStore, statuses: StockStatuses, catalog: CatalogReads, gate: StockGate,
    clock: Clock, ids: IdGenerator, channels: Channels, drops: LiveDrops, admissions: AdmissionTokens,
) -> Cart:
    now = clock.now()
    # A SKU behind a drop's waiting room: only with the admission the room gave this shopper.
    admission_needed(await drops.selling([command.sku], at=now), [command.sku], token=command.admission,
                     holder=holder_of(command.owner), admissions=admissions, now=now)
    # Sold out at the stock gate (in-process memory, else one Redis read): refused before any database,
    # whether or not the availability projection has caught up.
    if await gate.short({command.sku: command.quantity}):
        raise OutOfStock([command.sku])
    existing = None if command.new_owner else await load(command.owner, cart_store)
    channel = channels.get(existing.channel if existing else command.channel)
    found = await offers([command.sku], currency=channel.currency, channel=channel.name, at=now, catalog=catalog)
    offer = found.get(command.sku)
    if offer is None:
        raise UnknownSku(f"no product sells SKU {command.sku!r}")
    if not offer.purchasable or offer.unit_price is None:
        raise NotPurchasable(f"{command.sku} cannot be bought: {offer.reason}")
    if (await stock_of([command.sku], found, statuses=statuses))[command.sku] == "sold_out":
        raise OutOfStock([command.sku])  # what paying for it would answer
    seen = offer.unit_price.amount
    line_id = ids.new_id()
    cart, _ = await change(
        command.owner, cart_store,
        lambda cart: cart.add(line_id=line_id, sku=command.sku, quantity=command.quantity, now=now,
                              seen_unit_price=seen),
        create=_new_cart(command.owner, ids=ids, clock=clock, channel=channel), new_owner=command.new_owner,
    )
    return cart


@handler
async def change_line(command: ChangeCartLine, *, cart_store: CartStore, clock: Clock) -> Cart:
    now = clock.now()
    cart, _ = await change(
        command.owner, cart_store, lambda c: c.set_quantity(command.line_id, command.quantity, now=now),
    )
    return cart


@handler
async def remove_line(command: RemoveCartLine, *, cart_store: CartStore, clock: Clock) -> Cart:
    now = clock.now()
    cart, _ = await change(command.owner, cart_store, lambda c: c.remove(command.line_id, now=now))
    return cart


@handler
async def apply_coupon(
    command: ApplyCoupon, *, cart_store: CartStore, clock: Clock, ids: IdGenerator, promotions: PromotionEngine,
    channels: Channels, limiter: RateLimiter,
) -> Cart:
    channel = channels.get(command.channel)
    now = clock.now()
    code = normalise_code(command.code)
    # Every try counts, before the code is looked up: a script guessing codes slows down at once.
    for key in (f"coupon:{command.owner.kind.value}:{command.owner.id}",
                *([f"coupon-ip:{command.client_ip}"] if command.client_ip else [])):
        decision = await limiter.throttle(key, policy=COUPON_GUESSES)
        if not decision.allowed:
            raise CouponGuessesLimited(decision.retry_after)
    if not await promotions.coupon_exists(code, at=now):
        raise UnknownCoupon(f"coupon {code} is not valid")
    cart, _ = await change(
        command.owner, cart_store, lambda c: c.apply_coupon(code, now=now),
        create=_new_cart(command.owner, ids=ids, clock=clock, channel=channel),
    )
    return cart


@handler
async def remove_coupon(command: RemoveCoupon, *, cart_store: CartStore, clock: Clock) -> Cart:
    now = clock.now()
    cart, _ = await change(command.owner, cart_store, lambda c: c.remove_coupon(command.code, now=now))
    return cart


@handler
async def merge_guest_cart(
    command: MergeGuestCart, *, cart_store: CartStore, clock: Clock, ids: IdGenerator, channels: Channels,
) -> MergeReport:
    """Move the guest cart into the customer's. Idempotent: a retired or missing guest cart merges nothing."""
    fresh = False

    async def attempt() -> MergeReport:
        nonlocal fresh
        guest = await load(command.guest, cart_store, fresh=fresh)
        if guest is None or (guest.is_empty and not guest.coupon_codes):
            return MergeReport()
        customer = await load(command.customer, cart_store, fresh=fresh)
        fresh = True  # a retry reads the durable copies: the cached ones may be what was stale
        now = clock.now()
        if customer is None:
            # The guest cart's contents become the customer's new cart (the guest cart still retires,
            # so the cookie can never reach the customer's cart).
            customer = _new_cart(command.customer, ids=ids, clock=clock, channel=channels.get(guest.channel))()
        report = customer.absorb(guest, now=now, new_line_id=[ids.new_id() for _ in guest.lines])
        await cart_store.save(customer, guest)
        return report

    return await retry_on_conflict(attempt, attempts=ATTEMPTS)


@handler
async def view_cart(
    query: ViewCart, *, cart_store: CartStore, statuses: StockStatuses, catalog: CatalogReads,
    promotions: PromotionEngine, clock: Clock, channels: Channels, rates: RateTable,
) -> CartView:
    cart = await load(query.owner, cart_store) if query.owner is not None else None
    if cart is None:
        return empty_view(channels.get(query.channel))
    return await price_cart(
        cart, statuses=statuses, catalog=catalog, promotions=promotions, channel=channels.get(cart.channel),
        rates=rates, at=clock.now(),
    )


def merge_view(report: MergeReport) -> MergeView:
    return MergeView(
        added=list(report.added), combined=list(report.combined), capped=list(report.capped),
        skipped=list(report.skipped), coupons=list(report.coupons),
    )
