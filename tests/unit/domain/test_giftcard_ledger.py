"""Gift cards: a ledger that never goes negative, redemptions once per order, refunds never above them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.giftcards.giftcard import (
    Entry,
    EntryKind,
    GiftCard,
    GiftCardChanged,
    GiftCardError,
    InsufficientBalance,
)

T0 = datetime(2026, 3, 1, tzinfo=UTC)
T1 = T0 + timedelta(days=1)
T2 = T0 + timedelta(days=2)


def card(amount: int = 5000) -> GiftCard:
    issued = GiftCard.issue(code="GC-1", amount=amount, currency="EUR", actor="staff:bo", now=T0)
    issued.pull_events()
    return issued


def test_issuing_records_the_first_entry_and_event() -> None:
    issued = GiftCard.issue(code="GC-1", amount=5000, currency="EUR", actor="staff:bo", now=T0)
    assert (issued.id, issued.code, issued.currency, issued.created_at) == ("GC-1", "GC-1", "EUR", T0)
    assert (issued.balance, issued.version, issued.disabled) == (5000, 1, False)
    assert issued.ledger == [Entry(kind=EntryKind.ISSUED, amount=5000, reference="staff:bo", at=T0, key="")]
    assert issued.pull_events() == [GiftCardChanged(
        aggregate_id="GC-1", aggregate_version=1, occurred_at=T0, kind="issued", amount=5000, reference="staff:bo",
        currency="EUR", balance=5000)]
    assert GiftCardChanged.topic == "giftcards.gift_card_changed.v1"


@pytest.mark.parametrize("amount", [0, -1, True, 10.0])
def test_a_card_is_issued_with_a_positive_whole_amount(amount: object) -> None:
    with pytest.raises(GiftCardError, match=r"^a gift card is issued with a positive amount$"):
        GiftCard.issue(code="GC", amount=amount, currency="EUR", actor="s", now=T0)  # type: ignore[arg-type]
    assert GiftCard.issue(code="GC", amount=1, currency="EUR", actor="s", now=T0).balance == 1


def test_a_card_is_issued_in_a_known_currency() -> None:
    with pytest.raises(GiftCardError, match=r"^unsupported currency 'XYZ'$"):
        GiftCard.issue(code="GC", amount=100, currency="XYZ", actor="s", now=T0)


def test_redeeming_spends_from_the_balance_and_records_it() -> None:
    gift = card(5000)
    assert gift.redeem(1200, reference="ord-1", now=T1) == 1200
    assert (gift.balance, gift.version, gift.spent_by("ord-1")) == (3800, 2, 1200)
    assert gift.ledger[-1] == Entry(kind=EntryKind.REDEEMED, amount=-1200, reference="ord-1", at=T1)
    assert gift.pull_events() == [GiftCardChanged(
        aggregate_id="GC-1", aggregate_version=2, occurred_at=T1, kind="redeemed", amount=-1200, reference="ord-1",
        currency="EUR", balance=3800)]


def test_a_retried_redemption_for_the_same_order_spends_once() -> None:
    gift = card(5000)
    gift.redeem(1200, reference="ord-1", now=T1)
    assert gift.redeem(999, reference="ord-1", now=T2) == 1200
    assert (gift.balance, gift.version) == (3800, 2)


def test_the_whole_balance_can_be_spent_but_not_one_unit_more() -> None:
    gift = card(5000)
    with pytest.raises(InsufficientBalance, match=r"^the gift card holds 5000, not 5001$"):
        gift.redeem(5001, reference="ord-1", now=T1)
    assert gift.redeem(5000, reference="ord-1", now=T1) == 5000
    assert gift.balance == 0


@pytest.mark.parametrize("amount", [0, -5])
def test_a_redemption_is_positive(amount: int) -> None:
    gift = card()
    with pytest.raises(GiftCardError, match=r"^redeem a positive amount$"):
        gift.redeem(amount, reference="ord-1", now=T1)
    assert gift.redeem(1, reference="ord-1", now=T1) == 1


def test_a_disabled_card_is_not_spent_but_answers_a_retried_redemption() -> None:
    gift = card()
    gift.redeem(100, reference="ord-1", now=T1)
    gift.disabled = True
    with pytest.raises(GiftCardError, match=r"^this gift card is disabled$"):
        gift.redeem(100, reference="ord-2", now=T1)
    assert gift.redeem(100, reference="ord-1", now=T1) == 100


def test_a_refund_puts_back_what_an_order_spent_once_per_key() -> None:
    gift = card(5000)
    gift.redeem(2000, reference="ord-1", now=T1)
    gift.pull_events()
    gift.refund(500, reference="ord-1", key="re-1", now=T2)
    assert (gift.balance, gift.refunded_to("ord-1"), gift.version) == (3500, 500, 3)
    assert gift.ledger[-1] == Entry(kind=EntryKind.REFUNDED, amount=500, reference="ord-1", at=T2, key="re-1")
    assert gift.pull_events() == [GiftCardChanged(
        aggregate_id="GC-1", aggregate_version=3, occurred_at=T2, kind="refunded", amount=500, reference="ord-1",
        currency="EUR", balance=3500)]
    gift.refund(500, reference="ord-1", key="re-1", now=T2)
    assert (gift.balance, gift.version) == (3500, 3)


def test_refunds_add_up_to_what_the_order_spent_and_not_one_unit_more() -> None:
    gift = card(5000)
    gift.redeem(2000, reference="ord-1", now=T1)
    gift.redeem(1000, reference="ord-2", now=T1)
    gift.refund(1500, reference="ord-1", key="re-1", now=T2)
    with pytest.raises(GiftCardError, match=r"^ord-1 spent 2000 on this card; cannot refund more$"):
        gift.refund(501, reference="ord-1", key="re-2", now=T2)
    gift.refund(500, reference="ord-1", key="re-2", now=T2)
    assert (gift.refunded_to("ord-1"), gift.refunded_to("ord-2"), gift.balance) == (2000, 0, 4000)


def test_an_order_that_spent_nothing_gets_nothing_back() -> None:
    gift = card()
    with pytest.raises(GiftCardError, match=r"ord-9 spent 0"):
        gift.refund(1, reference="ord-9", key="re-1", now=T1)


@pytest.mark.parametrize("amount", [0, -1])
def test_a_refund_is_positive(amount: int) -> None:
    gift = card()
    gift.redeem(100, reference="ord-1", now=T1)
    with pytest.raises(GiftCardError, match=r"^refund a positive amount$"):
        gift.refund(amount, reference="ord-1", key="re-1", now=T2)


def test_a_refund_needs_its_own_key() -> None:
    gift = card()
    gift.redeem(100, reference="ord-1", now=T1)
    with pytest.raises(GiftCardError, match=r"^a refund needs its own reference$"):
        gift.refund(100, reference="ord-1", key="", now=T2)
    assert gift.balance == 4900


def test_spent_and_refunded_count_only_their_own_kind_and_order() -> None:
    gift = card(5000)
    gift.redeem(700, reference="ord-1", now=T1)
    gift.redeem(300, reference="ord-2", now=T1)
    gift.refund(200, reference="ord-1", key="re-1", now=T2)
    assert (gift.spent_by("ord-1"), gift.spent_by("ord-2"), gift.spent_by("staff:bo")) == (700, 300, 0)
    assert (gift.refunded_to("ord-1"), gift.refunded_to("ord-2")) == (200, 0)
