"""Checkout steps: start (or resume), contact, address, shipping options and the shipping choice."""

from __future__ import annotations

from application.carts import queries as carts
from application.carts.ports import CartStore, PromotionEngine
from application.carts.pricing import Channels
from application.catalog.snapshot import CatalogReads
from application.checkout.commands import (
    ChooseShipping,
    GetCheckout,
    SetAddress,
    SetContact,
    ShippingOptions,
    StartCheckout,
)
from application.checkout.common import Uow, change_checkout, load_checkout, parcel_of, priced_cart, view
from application.checkout.errors import EmptyCart
from application.checkout.ports import ShippingRates, TaxCalculator
from application.checkout.read_models import CheckoutView, ShippingOptionView
from application.inventory.queries import StockStatuses
from application.messaging.registry import Dispatch, handler
from application.ports.addresses import AddressValidator
from application.ports.clock import Clock, IdGenerator
from domain.carts.cart import OwnerKind
from domain.checkout.checkout import Checkout
from domain.customers.customer import normalise_email
from domain.shipping.rates import MethodNotOffered, NoShippingMethod


@handler
async def start_checkout(
    command: StartCheckout, *, uow: Uow, cart_store: CartStore, clock: Clock, ids: IdGenerator,
) -> CheckoutView:
    cart = await carts.load(command.owner, cart_store)
    if cart is None or cart.is_empty:
        raise EmptyCart("the cart is empty")
    email = None
    if command.owner.kind is OwnerKind.CUSTOMER:
        async with uow() as tx:
            email = (await tx.customers.get(command.owner.id)).email
    checkout = Checkout.start(
        checkout_id=ids.new_id(), owner=command.owner, cart_id=cart.id, currency=cart.currency,
        channel=cart.channel, email=email, now=clock.now(),
    )
    async with uow() as tx:
        await tx.checkouts.add(checkout)
        await tx.commit()
    return view(checkout)


@handler
async def get_checkout(query: GetCheckout, *, uow: Uow) -> CheckoutView:
    return view(await load_checkout(uow, query.owner, query.checkout_id))


@handler
async def set_contact(command: SetContact, *, uow: Uow, clock: Clock, dispatch: Dispatch) -> CheckoutView:
    email = normalise_email(command.email)
    now = clock.now()
    return view(await change_checkout(uow, command.owner, command.checkout_id,
                                      lambda c: c.set_contact(email, now=now), dispatch))


@handler
async def set_address(
    command: SetAddress, *, uow: Uow, clock: Clock, addresses: AddressValidator, shipping: ShippingRates,
    tax: TaxCalculator, dispatch: Dispatch,
) -> CheckoutView:
    ship_to = addresses.normalise(command.shipping)
    bill_to = addresses.normalise(command.billing) if command.billing else None
    checkout = await load_checkout(uow, command.owner, command.checkout_id)
    # A destination no zone covers (UnsupportedDestination), where no method takes the cart's currency
    # (NoShippingMethod: every method carries an empty parcel), or that we cannot tax (UntaxedDestination),
    # is refused now, never at shipping or payment.
    if not await shipping.options(country=ship_to.country, region=ship_to.region, currency=checkout.currency,
                                  goods=0, weight_grams=0):
        raise NoShippingMethod(ship_to.country, ship_to.region, checkout.currency)
    await tax.destination(country=ship_to.country, region=ship_to.region)
    now = clock.now()
    return view(await change_checkout(uow, command.owner, command.checkout_id,
                                      lambda c: c.set_address(ship_to, bill_to, now=now), dispatch,
                                      loaded=checkout))


@handler
async def shipping_options(
    query: ShippingOptions, *, uow: Uow, statuses: StockStatuses, catalog: CatalogReads, cart_store: CartStore,
    promotions: PromotionEngine, channels: Channels, shipping: ShippingRates, clock: Clock,
) -> list[ShippingOptionView]:
    checkout = await load_checkout(uow, query.owner, query.checkout_id)
    _, priced = await priced_cart(checkout, store=cart_store, statuses=statuses, catalog=catalog,
                                  promotions=promotions, channels=channels, at=clock.now())
    options = await shipping.options(**await parcel_of(checkout, priced, catalog))
    return [
        ShippingOptionView(id=o.method.id, name=o.method.name, amount=o.amount, currency=o.method.currency,
                           days=o.method.days)
        for o in options
    ]


@handler
async def choose_shipping(
    command: ChooseShipping, *, uow: Uow, statuses: StockStatuses, catalog: CatalogReads, cart_store: CartStore,
    promotions: PromotionEngine, channels: Channels, shipping: ShippingRates, clock: Clock, dispatch: Dispatch,
) -> CheckoutView:
    checkout = await load_checkout(uow, command.owner, command.checkout_id)
    _, priced = await priced_cart(checkout, store=cart_store, statuses=statuses, catalog=catalog,
                                  promotions=promotions, channels=channels, at=clock.now())
    offered = await shipping.options(**await parcel_of(checkout, priced, catalog))
    if command.method_id not in {o.method.id for o in offered}:
        raise MethodNotOffered(f"shipping method {command.method_id!r} is not offered for this address and cart")
    now = clock.now()
    return view(await change_checkout(uow, command.owner, command.checkout_id,
                                      lambda c: c.choose_shipping(command.method_id, now=now), dispatch,
                                      loaded=checkout))
