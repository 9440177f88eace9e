"""Hypothesis strategies for promotion rule trees, carts and promotion lists (shared by the promotion tests)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import strategies as st

from domain.promotions import rules as r
from domain.promotions.engine import ActivePromotion, PricingContext, PricingLine
from domain.shared.money import Money

CURRENCIES = ("EUR", "USD", "JPY", "KWD")
SKUS = ("SHOE-40", "SHOE-41", "SOCK", "CAP", "TEE")
CATEGORIES = ("shoes", "socks", "hats")
COLOURS = ("red", "blue")
GROUPS = ("vip", "staff")
CODES = ("SUMMER10", "WELCOME")
CHANNELS = ("web", "app")
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)

# Free text for the round trip: anything without surrounding spaces, quotes and backslashes included.
free_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=8,
).filter(lambda s: s == s.strip())


def names(known: tuple[str, ...]) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(known), free_text)


def amounts(*, minimum: int = 1, currencies: tuple[str, ...] = CURRENCIES) -> st.SearchStrategy[tuple[Money, ...]]:
    one = st.builds(Money, st.integers(minimum, 20_000), st.sampled_from(currencies))
    return st.lists(one, min_size=1, max_size=3, unique_by=lambda m: m.currency).map(tuple)


percents = st.one_of(st.integers(1, 10_000), st.sampled_from([100, 1000, 2000, 5000, 10_000]))
offsets = st.sampled_from([UTC, timezone(timedelta(hours=2)), timezone(-timedelta(hours=5, minutes=30))])
moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=offsets)


def selectors() -> st.SearchStrategy[r.Selector]:
    return st.one_of(
        st.just(r.AllLines()),
        st.builds(r.BySku, sku=names(SKUS)),
        st.builds(r.ByProduct, product_id=names(("p-shoe", "p-sock", "p-cap"))),
        st.builds(r.ByCategory, category_id=names(CATEGORIES)),
        st.builds(r.ByAttribute, name=names(("colour",)), value=names(COLOURS)),
    )


@st.composite
def windows(draw: st.DrawFn) -> r.DateWindow:
    start = draw(st.none() | moments)
    end = draw(st.none() | st.timedeltas(min_value=timedelta(seconds=1), max_value=timedelta(days=60)))
    if start is None:
        return r.DateWindow(ends_at=draw(moments))
    return r.DateWindow(starts_at=start, ends_at=None if end is None else start + end)


def atoms(selector: st.SearchStrategy[r.Selector], currencies: tuple[str, ...] = CURRENCIES,
          ) -> st.SearchStrategy[r.Condition]:
    return st.one_of(
        st.just(r.Always()),
        st.builds(r.SubtotalAtLeast, amounts=amounts(minimum=0, currencies=currencies)),
        st.builds(r.QuantityAtLeast, lines=selector, minimum=st.integers(1, 4)),
        st.builds(r.CustomerInGroup, group=names(GROUPS)),
        st.just(r.FirstOrder()),
        st.builds(r.CouponPresent, code=names(CODES)),
        st.builds(r.CurrencyIs, currency=st.sampled_from(currencies)),
        st.builds(r.ChannelIs, channel=names(CHANNELS)),
        windows(),
    )


def conditions(selector: st.SearchStrategy[r.Selector], currencies: tuple[str, ...] = CURRENCIES,
               ) -> st.SearchStrategy[r.Condition]:
    def combine(children: st.SearchStrategy[r.Condition]) -> st.SearchStrategy[r.Condition]:
        several = st.lists(children, min_size=2, max_size=3).map(tuple)
        return st.one_of(st.builds(r.And, items=several), st.builds(r.Or, items=several),
                         st.builds(r.Not, item=children))

    return st.recursive(atoms(selector, currencies), combine, max_leaves=6)


def actions(selector: st.SearchStrategy[r.Selector], currencies: tuple[str, ...] = CURRENCIES,
            ) -> st.SearchStrategy[r.Action]:
    money = amounts(currencies=currencies)
    return st.one_of(
        st.builds(r.PercentOffLines, basis_points=percents, lines=selector),
        st.builds(r.AmountOffLines, amounts=money, lines=selector),
        st.builds(r.PercentOffOrder, basis_points=percents),
        st.builds(r.AmountOffOrder, amounts=money),
        st.builds(r.BuyXGetY, buy=st.integers(1, 3), get=st.integers(1, 2), basis_points=percents, lines=selector,
                  limit=st.none() | st.integers(1, 3)),
        st.builds(r.BundlePrice, components=st.lists(selector, min_size=2, max_size=3).map(tuple),
                  prices=amounts(minimum=0, currencies=currencies)),
        st.builds(r.PercentOffShipping, basis_points=percents),
        st.builds(r.AmountOffShipping, amounts=money),
    )


def rules(selector: st.SearchStrategy[r.Selector] | None = None, currencies: tuple[str, ...] = CURRENCIES,
          ) -> st.SearchStrategy[r.Rule]:
    chosen = selectors() if selector is None else selector
    return st.builds(r.Rule, when=conditions(chosen, currencies),
                     then=st.lists(actions(chosen, currencies), min_size=1, max_size=3).map(tuple))


# --- carts and promotions the engine can actually match ----------------------------------------------

cart_selectors: st.SearchStrategy[r.Selector] = st.one_of(
    st.just(r.AllLines()),
    st.builds(r.BySku, sku=st.sampled_from(SKUS)),
    st.builds(r.ByProduct, product_id=st.sampled_from(("p-shoe", "p-sock", "p-cap"))),
    st.builds(r.ByCategory, category_id=st.sampled_from(CATEGORIES)),
    st.builds(r.ByAttribute, name=st.just("colour"), value=st.sampled_from(COLOURS)),
)

lines = st.builds(
    PricingLine,
    sku=st.sampled_from(SKUS),
    product_id=st.sampled_from(("p-shoe", "p-sock", "p-cap")),
    category_ids=st.frozensets(st.sampled_from(CATEGORIES), max_size=2),
    attributes=st.dictionaries(st.just("colour"), st.sampled_from(COLOURS), max_size=1),
    quantity=st.integers(1, 5),
    unit_price=st.one_of(st.integers(0, 20_000), st.sampled_from([1, 5, 999, 4999])),
)

contexts = st.builds(
    PricingContext,
    lines=st.lists(lines, max_size=5).map(tuple),
    currency=st.sampled_from(("EUR", "JPY")),
    channel=st.none() | st.sampled_from(CHANNELS),
    customer_groups=st.frozensets(st.sampled_from(GROUPS)),
    first_order=st.booleans(),
    coupon_codes=st.frozensets(st.sampled_from((*CODES, "summer10"))),
    at=st.just(NOW),
    shipping=st.integers(0, 2_000),
)

PROMOTION_IDS = ("promo-a", "promo-b", "promo-c", "promo-d", "promo-e")


@st.composite
def promotion_lists(
    draw: st.DrawFn, rule_strategy: st.SearchStrategy[r.Rule] | None = None,
    promotion_ids: tuple[str, ...] = PROMOTION_IDS, max_size: int = 5,
) -> list[ActivePromotion]:
    """Promotions as the engine gets them; ``rule_strategy`` (default: rules over what carts have) and the
    ids they may take vary by test."""
    ids = draw(st.lists(st.sampled_from(promotion_ids), unique=True, max_size=max_size))
    simple_rules = rule_strategy if rule_strategy is not None else rules(cart_selectors, currencies=("EUR", "JPY"))
    return [
        ActivePromotion(
            promotion_id=promotion_id,
            version=draw(st.integers(1, 3)),
            name=promotion_id,
            rule=draw(simple_rules),
            priority=draw(st.integers(0, 2)),
            exclusive_group=draw(st.none() | st.sampled_from(("seasonal", "loyalty"))),
            not_combinable_with=draw(st.frozensets(st.sampled_from(PROMOTION_IDS), max_size=2)),
            max_discount_per_order=draw(st.just(()) | amounts(minimum=0, currencies=("EUR", "JPY"))),
            coupon_codes=draw(st.just(frozenset()) | st.frozensets(st.sampled_from(CODES), min_size=1)),
        )
        for promotion_id in ids
    ]
