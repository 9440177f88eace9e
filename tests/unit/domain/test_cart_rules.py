"""The cart: quantities and limits on both sides, coupons, merging a guest cart, retiring."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from domain.carts.cart import (
    MAX_COUPONS,
    MAX_LINE_QUANTITY,
    MAX_LINES,
    Cart,
    CartError,
    CartFull,
    CartLine,
    CartRetired,
    LineNotFound,
    MergeReport,
    Owner,
    OwnerKind,
    QuantityOutOfRange,
    normalise_code,
)
from domain.shared.errors import NotFound

T0 = datetime(2026, 2, 1, 10, 0, tzinfo=UTC)
T1 = T0 + timedelta(minutes=1)
T2 = T0 + timedelta(minutes=2)


def new_cart(cart_id: str = "cart-1", owner: Owner | None = None, **more: object) -> Cart:
    return Cart(id=cart_id, owner=owner or Owner.guest(cart_id), currency="EUR", channel="web", created_at=T0,
                updated_at=T0, **more)  # type: ignore[arg-type]


def test_owners_are_guests_or_customers() -> None:
    assert Owner.guest("tok") == Owner(OwnerKind.GUEST, "tok")
    assert Owner.customer("cus-1") == Owner(OwnerKind.CUSTOMER, "cus-1")
    assert (OwnerKind.GUEST.value, OwnerKind.CUSTOMER.value) == ("guest", "customer")


def test_the_limits() -> None:
    assert (MAX_LINE_QUANTITY, MAX_LINES, MAX_COUPONS) == (99, 100, 5)
    assert new_cart().line_limit == 99


def test_adding_a_new_sku_adds_a_line_with_the_price_seen() -> None:
    cart = new_cart()
    line = cart.add(line_id="l1", sku="TEE", quantity=2, now=T1, seen_unit_price=1500)
    assert line == CartLine(id="l1", sku="TEE", quantity=2, added_at=T1, seen_unit_price=1500)
    assert cart.lines == [line]
    assert (cart.updated_at, cart.skus, cart.is_empty) == (T1, ["TEE"], False)
    assert new_cart().is_empty


def test_adding_a_sku_again_grows_its_line_and_remembers_the_new_price() -> None:
    cart = new_cart()
    cart.add(line_id="l1", sku="TEE", quantity=2, now=T1, seen_unit_price=1500)
    cart.add(line_id="l2", sku="CAP", quantity=1, now=T1, seen_unit_price=900)
    grown = cart.add(line_id="l3", sku="TEE", quantity=3, now=T2, seen_unit_price=1400)
    assert grown == CartLine(id="l1", sku="TEE", quantity=5, added_at=T1, seen_unit_price=1400)
    assert cart.lines == [grown, CartLine(id="l2", sku="CAP", quantity=1, added_at=T1, seen_unit_price=900)]
    assert cart.updated_at == T2


@pytest.mark.parametrize("quantity", [0, -1, 100, True, 1.0])
def test_a_quantity_outside_one_to_the_limit_is_refused_and_named(quantity: object) -> None:
    cart = new_cart()
    with pytest.raises(QuantityOutOfRange, match=fr"^quantity must be between 1 and 99, got {quantity!r}$"):
        cart.add(line_id="l1", sku="TEE", quantity=quantity, now=T1, seen_unit_price=None)  # type: ignore[arg-type]
    assert cart.is_empty
    assert cart.updated_at == T0


def test_a_line_may_reach_the_limit_but_not_pass_it() -> None:
    cart = new_cart()
    cart.add(line_id="l1", sku="TEE", quantity=1, now=T1, seen_unit_price=None)
    assert cart.add(line_id="l2", sku="TEE", quantity=98, now=T1, seen_unit_price=None).quantity == 99
    with pytest.raises(QuantityOutOfRange, match=r"got 100"):
        cart.add(line_id="l3", sku="TEE", quantity=1, now=T2, seen_unit_price=None)
    assert cart.lines[0].quantity == 99
    assert cart.updated_at == T1


def test_a_smaller_line_limit_applies_to_every_change() -> None:
    cart = new_cart(line_limit=3)
    cart.add(line_id="l1", sku="TEE", quantity=3, now=T1, seen_unit_price=None)
    with pytest.raises(QuantityOutOfRange, match=r"between 1 and 3"):
        cart.set_quantity("l1", 4, now=T1)


def test_a_full_cart_takes_no_new_sku_but_still_grows_its_lines() -> None:
    cart = new_cart()
    for i in range(MAX_LINES - 1):
        cart.add(line_id=f"l{i}", sku=f"S{i}", quantity=1, now=T1, seen_unit_price=None)
    cart.add(line_id="last", sku="LAST", quantity=1, now=T1, seen_unit_price=None)
    assert len(cart.lines) == MAX_LINES
    with pytest.raises(CartFull, match=r"^a cart holds at most 100 lines$"):
        cart.add(line_id="over", sku="OVER", quantity=1, now=T2, seen_unit_price=None)
    cart.add(line_id="again", sku="S0", quantity=1, now=T2, seen_unit_price=None)
    assert cart.line("l0").quantity == 2


def test_setting_a_quantity_replaces_it_and_touches_the_cart() -> None:
    cart = new_cart()
    cart.add(line_id="l1", sku="TEE", quantity=2, now=T0, seen_unit_price=1500)
    cart.add(line_id="l2", sku="CAP", quantity=2, now=T0, seen_unit_price=900)
    updated = cart.set_quantity("l1", 7, now=T1)
    assert updated == CartLine(id="l1", sku="TEE", quantity=7, added_at=T0, seen_unit_price=1500)
    assert [line.quantity for line in cart.lines] == [7, 2]
    assert cart.updated_at == T1
    with pytest.raises(QuantityOutOfRange):
        cart.set_quantity("l1", 0, now=T2)
    with pytest.raises(LineNotFound, match=r"^no line nope in this cart$"):
        cart.set_quantity("nope", 1, now=T2)
    assert cart.updated_at == T1


def test_removing_a_line_keeps_the_others() -> None:
    cart = new_cart()
    cart.add(line_id="l1", sku="TEE", quantity=1, now=T0, seen_unit_price=None)
    cart.add(line_id="l2", sku="CAP", quantity=1, now=T0, seen_unit_price=None)
    cart.remove("l1", now=T1)
    assert (cart.skus, cart.updated_at) == (["CAP"], T1)
    with pytest.raises(LineNotFound):
        cart.remove("l1", now=T2)
    assert cart.line_for_sku("TEE") is None
    assert cart.line_for_sku("CAP") == cart.line("l2")


@pytest.mark.parametrize(("code", "normalised"), [(" summer-10 ", "SUMMER-10"), ("a_b", "A_B"), ("x" * 64, "X" * 64)])
def test_coupon_codes_are_trimmed_and_upper_cased(code: str, normalised: str) -> None:
    assert normalise_code(code) == normalised


@pytest.mark.parametrize("code", ["", "   ", "x" * 65, "SUMMER 10", "10%OFF", "ä-ß!"])
def test_a_malformed_coupon_code_is_refused_and_quoted(code: str) -> None:
    with pytest.raises(CartError, match=fr"^invalid coupon code {re.escape(repr(code))}$"):
        normalise_code(code)


def test_a_coupon_is_remembered_once_in_normal_form() -> None:
    cart = new_cart()
    assert cart.apply_coupon("summer10", now=T1) == "SUMMER10"
    assert cart.apply_coupon(" SUMMER10 ", now=T2) == "SUMMER10"
    assert (cart.coupon_codes, cart.updated_at) == (["SUMMER10"], T1)


def test_a_cart_holds_at_most_five_coupons() -> None:
    cart = new_cart()
    for i in range(MAX_COUPONS):
        cart.apply_coupon(f"C{i}", now=T1)
    with pytest.raises(CartFull, match=r"^at most 5 coupon codes per cart$"):
        cart.apply_coupon("C9", now=T2)
    assert cart.apply_coupon("c0", now=T2) == "C0"  # one already there is fine
    assert (len(cart.coupon_codes), cart.updated_at) == (5, T1)


def test_removing_a_coupon_by_any_spelling() -> None:
    cart = new_cart()
    cart.apply_coupon("SUMMER10", now=T1)
    cart.remove_coupon(" summer10", now=T2)
    assert (cart.coupon_codes, cart.updated_at) == ([], T2)
    with pytest.raises(NotFound, match=r"^coupon SUMMER10 is not on this cart$"):
        cart.remove_coupon("summer10", now=T2)


@pytest.mark.parametrize(
    "change",
    [
        lambda c: c.add(line_id="l9", sku="NEW", quantity=1, now=T2, seen_unit_price=None),
        lambda c: c.add(line_id="l9", sku="TEE", quantity=1, now=T2, seen_unit_price=None),
        lambda c: c.set_quantity("l1", 3, now=T2),
        lambda c: c.remove("l1", now=T2),
        lambda c: c.apply_coupon("NEW", now=T2),
        lambda c: c.remove_coupon("OLD", now=T2),
        lambda c: c.retire(now=T2),
        lambda c: c.absorb(new_cart("g"), now=T2, new_line_id=["x"]),
    ],
    ids=["add-new", "add-existing", "set", "remove", "coupon", "remove-coupon", "retire", "absorb"],
)
def test_a_retired_cart_takes_no_changes(change) -> None:  # type: ignore[no-untyped-def]
    cart = new_cart()
    cart.add(line_id="l1", sku="TEE", quantity=1, now=T0, seen_unit_price=None)
    cart.apply_coupon("OLD", now=T0)
    cart.retire(now=T1)
    assert (cart.retired, cart.updated_at) == (True, T1)
    with pytest.raises(CartRetired, match=r"^cart cart-1 is retired$"):
        change(cart)
    assert (cart.skus, cart.coupon_codes, cart.updated_at) == (["TEE"], ["OLD"], T1)
    assert cart.lines[0].quantity == 1


def test_reopening_a_retired_cart_starts_it_over_empty() -> None:
    cart = new_cart()
    cart.add(line_id="l1", sku="TEE", quantity=1, now=T0, seen_unit_price=None)
    cart.apply_coupon("OLD", now=T0)
    cart.retire(now=T1)
    cart.reopen(now=T2)
    assert (cart.lines, cart.coupon_codes, cart.retired, cart.updated_at) == ([], [], False, T2)


def test_absorbing_a_guest_cart_adds_combines_caps_and_carries_coupons() -> None:
    mine = new_cart("mine", Owner.customer("cus-1"))
    mine.add(line_id="m1", sku="TEE", quantity=2, now=T0, seen_unit_price=1500)
    mine.add(line_id="m2", sku="CAP", quantity=98, now=T0, seen_unit_price=900)
    mine.apply_coupon("MINE", now=T0)
    guest = new_cart("guest")
    guest.add(line_id="g1", sku="TEE", quantity=3, now=T0, seen_unit_price=1400)
    guest.add(line_id="g2", sku="CAP", quantity=5, now=T0, seen_unit_price=800)
    guest.add(line_id="g3", sku="SOCK", quantity=4, now=T0, seen_unit_price=300)
    guest.apply_coupon("MINE", now=T0)
    guest.apply_coupon("GUEST", now=T0)
    report = mine.absorb(guest, now=T1, new_line_id=["n1", "n2", "n3"])
    assert report == MergeReport(added=("SOCK",), combined=("TEE", "CAP"), capped=("CAP",), skipped=(),
                                 coupons=("GUEST",))
    assert mine.lines == [
        CartLine(id="m1", sku="TEE", quantity=5, added_at=T0, seen_unit_price=1500),
        CartLine(id="m2", sku="CAP", quantity=99, added_at=T0, seen_unit_price=900),
        CartLine(id="n1", sku="SOCK", quantity=4, added_at=T0, seen_unit_price=300),
    ]
    assert mine.coupon_codes == ["MINE", "GUEST"]
    assert (mine.updated_at, guest.retired, guest.updated_at) == (T1, True, T1)


def test_a_combined_line_exactly_at_the_limit_is_not_capped() -> None:
    mine = new_cart("mine")
    mine.add(line_id="m1", sku="TEE", quantity=90, now=T0, seen_unit_price=None)
    guest = new_cart("guest")
    guest.add(line_id="g1", sku="TEE", quantity=9, now=T0, seen_unit_price=None)
    report = mine.absorb(guest, now=T1, new_line_id=[])
    assert (report.combined, report.capped, mine.lines[0].quantity) == (("TEE",), (), 99)


def test_a_full_cart_skips_new_guest_lines_and_coupons() -> None:
    mine = new_cart("mine")
    for i in range(MAX_LINES):
        mine.add(line_id=f"m{i}", sku=f"S{i}", quantity=1, now=T0, seen_unit_price=None)
    for i in range(MAX_COUPONS):
        mine.apply_coupon(f"C{i}", now=T0)
    guest = new_cart("guest")
    guest.add(line_id="g1", sku="NEW", quantity=1, now=T0, seen_unit_price=None)
    guest.add(line_id="g2", sku="S0", quantity=1, now=T0, seen_unit_price=None)
    guest.apply_coupon("EXTRA", now=T0)
    report = mine.absorb(guest, now=T1, new_line_id=["n1"])
    assert report == MergeReport(combined=("S0",), skipped=("NEW",))
    assert len(mine.lines) == MAX_LINES
    assert "EXTRA" not in mine.coupon_codes


def test_a_cart_absorbing_itself_changes_nothing() -> None:
    cart = new_cart()
    cart.add(line_id="l1", sku="TEE", quantity=1, now=T0, seen_unit_price=None)
    assert cart.absorb(cart, now=T1, new_line_id=["x"]) == MergeReport()
    assert (cart.lines[0].quantity, cart.retired, cart.updated_at) == (1, False, T0)


def test_an_already_retired_guest_cart_is_not_absorbed_twice() -> None:
    mine = new_cart("mine")
    guest = new_cart("guest")
    guest.add(line_id="g1", sku="TEE", quantity=1, now=T0, seen_unit_price=None)
    guest.apply_coupon("GUEST", now=T0)
    mine.absorb(guest, now=T1, new_line_id=["n1"])
    with pytest.raises(CartRetired, match=r"^cart guest is retired$"):
        mine.absorb(guest, now=T2, new_line_id=["n2"])
    assert mine.lines == [CartLine(id="n1", sku="TEE", quantity=1, added_at=T0, seen_unit_price=None)]
    assert mine.updated_at == T1


def test_every_guest_line_is_merged_whatever_comes_before_it() -> None:
    mine = new_cart("mine")
    mine.add(line_id="m1", sku="TEE", quantity=1, now=T0, seen_unit_price=None)
    guest = new_cart("guest")
    guest.add(line_id="g1", sku="SOCK", quantity=1, now=T0, seen_unit_price=None)
    guest.add(line_id="g2", sku="CAP", quantity=2, now=T0, seen_unit_price=None)
    guest.add(line_id="g3", sku="TEE", quantity=3, now=T0, seen_unit_price=None)
    report = mine.absorb(guest, now=T1, new_line_id=["n1", "n2"])
    assert report == MergeReport(added=("SOCK", "CAP"), combined=("TEE",))
    assert [(line.id, line.sku, line.quantity) for line in mine.lines] == [
        ("m1", "TEE", 4), ("n1", "SOCK", 1), ("n2", "CAP", 2)]


def test_a_full_cart_skips_each_new_guest_line_and_still_combines_the_rest() -> None:
    mine = new_cart("mine")
    for i in range(MAX_LINES):
        mine.add(line_id=f"m{i}", sku=f"S{i}", quantity=1, now=T0, seen_unit_price=None)
    guest = new_cart("guest")
    guest.add(line_id="g1", sku="NEW1", quantity=1, now=T0, seen_unit_price=None)
    guest.add(line_id="g2", sku="NEW2", quantity=1, now=T0, seen_unit_price=None)
    guest.add(line_id="g3", sku="S1", quantity=1, now=T0, seen_unit_price=None)
    report = mine.absorb(guest, now=T1, new_line_id=["n1", "n2"])
    assert report == MergeReport(combined=("S1",), skipped=("NEW1", "NEW2"))
