"""The cart: what a shopper intends to buy. It holds SKUs and quantities, never prices or totals.

Totals are recomputed on every read from the current price lists, promotions and tax rules
(``application.carts.pricing``), so a price change shows up without touching the cart. The one
price the cart keeps is the unit price the shopper *saw* when adding a line, to tell them when
it changed since.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import Enum

from domain.shared.errors import Conflict, InvalidInput, NotFound

MAX_LINE_QUANTITY = 99
MAX_LINES = 100
MAX_COUPONS = 5


class CartError(InvalidInput):
    """A cart rule refused the change."""


class QuantityOutOfRange(CartError):
    """A line's quantity must be between 1 and the per-line limit."""


class CartFull(CartError):
    """Too many distinct lines or coupon codes."""


class LineNotFound(NotFound):
    """No such line in this cart."""


class CartRetired(Conflict):
    """The cart was merged into another or checked out; it takes no more changes."""


class OwnerKind(Enum):
    GUEST = "guest"
    CUSTOMER = "customer"


@dataclass(frozen=True, slots=True)
class Owner:
    kind: OwnerKind
    id: str  # the guest token (the cart's own id) or the customer id

    @classmethod
    def guest(cls, token: str) -> Owner:
        return cls(OwnerKind.GUEST, token)

    @classmethod
    def customer(cls, customer_id: str) -> Owner:
        return cls(OwnerKind.CUSTOMER, customer_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class CartLine:
    id: str
    sku: str
    quantity: int
    added_at: datetime
    seen_unit_price: int | None = None  # minor units of the cart's currency, as shown when last added


@dataclass(frozen=True, slots=True, kw_only=True)
class MergeReport:
    """What merging a guest cart into a customer's cart did, for the client to show."""

    added: tuple[str, ...] = ()  # SKUs that were new to the customer's cart
    combined: tuple[str, ...] = ()  # SKUs present in both: quantities added up
    capped: tuple[str, ...] = ()  # SKUs whose sum was cut to the per-line limit
    skipped: tuple[str, ...] = ()  # SKUs left out (the cart was full)
    coupons: tuple[str, ...] = ()  # coupon codes carried over


def _check_quantity(quantity: int, limit: int) -> None:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= limit:
        raise QuantityOutOfRange(f"quantity must be between 1 and {limit}, got {quantity!r}")


def normalise_code(code: str) -> str:
    cleaned = code.strip().upper()
    if not cleaned or len(cleaned) > 64 or not all(c.isalnum() or c in "-_" for c in cleaned):
        raise CartError(f"invalid coupon code {code!r}")
    return cleaned


@dataclass(kw_only=True)
class Cart:
    """Lines by SKU (one line per SKU), coupon codes and an owner. ``version`` guards concurrent saves."""

    id: str
    owner: Owner
    currency: str
    channel: str
    created_at: datetime
    updated_at: datetime
    lines: list[CartLine] = field(default_factory=list)
    coupon_codes: list[str] = field(default_factory=list)
    retired: bool = False
    version: int = 0
    line_limit: int = MAX_LINE_QUANTITY

    # -- queries ------------------------------------------------------------------------------

    def line(self, line_id: str) -> CartLine:
        for line in self.lines:
            if line.id == line_id:
                return line
        raise LineNotFound(f"no line {line_id} in this cart")

    def line_for_sku(self, sku: str) -> CartLine | None:
        return next((line for line in self.lines if line.sku == sku), None)

    @property
    def skus(self) -> list[str]:
        return [line.sku for line in self.lines]

    @property
    def is_empty(self) -> bool:
        return not self.lines

    # -- behaviour ----------------------------------------------------------------------------

    def _touch(self, now: datetime) -> None:
        if self.retired:
            raise CartRetired(f"cart {self.id} is retired")
        self.updated_at = now

    def add(self, *, line_id: str, sku: str, quantity: int, now: datetime, seen_unit_price: int | None) -> CartLine:
        """Add ``quantity`` of ``sku``: a SKU already in the cart grows its line instead of adding one."""
        _check_quantity(quantity, self.line_limit)
        existing = self.line_for_sku(sku)
        if existing is not None:
            _check_quantity(existing.quantity + quantity, self.line_limit)
            self._touch(now)
            updated = replace(existing, quantity=existing.quantity + quantity, seen_unit_price=seen_unit_price)
            self.lines = [updated if line.id == existing.id else line for line in self.lines]
            return updated
        if len(self.lines) >= MAX_LINES:
            raise CartFull(f"a cart holds at most {MAX_LINES} lines")
        self._touch(now)
        line = CartLine(id=line_id, sku=sku, quantity=quantity, added_at=now, seen_unit_price=seen_unit_price)
        self.lines.append(line)
        return line

    def set_quantity(self, line_id: str, quantity: int, *, now: datetime) -> CartLine:
        current = self.line(line_id)
        _check_quantity(quantity, self.line_limit)
        self._touch(now)
        updated = replace(current, quantity=quantity)
        self.lines = [updated if line.id == line_id else line for line in self.lines]
        return updated

    def remove(self, line_id: str, *, now: datetime) -> None:
        self.line(line_id)
        self._touch(now)
        self.lines = [line for line in self.lines if line.id != line_id]

    def apply_coupon(self, code: str, *, now: datetime) -> str:
        """Remember a code; whether it gives a discount is the promotion engine's answer on each read."""
        normalised = normalise_code(code)
        if normalised in self.coupon_codes:
            return normalised
        if len(self.coupon_codes) >= MAX_COUPONS:
            raise CartFull(f"at most {MAX_COUPONS} coupon codes per cart")
        self._touch(now)
        self.coupon_codes.append(normalised)
        return normalised

    def remove_coupon(self, code: str, *, now: datetime) -> None:
        normalised = normalise_code(code)
        if normalised not in self.coupon_codes:
            raise NotFound(f"coupon {normalised} is not on this cart")
        self._touch(now)
        self.coupon_codes.remove(normalised)

    def absorb(self, guest: Cart, *, now: datetime, new_line_id: list[str]) -> MergeReport:
        """Merge ``guest``'s lines and coupons into this cart and retire ``guest``.

        Same SKU: quantities add up to the per-line limit. ``new_line_id`` supplies ids for lines
        that are new here (one per guest line is enough).
        """
        if guest.id == self.id:
            return MergeReport()
        if guest.retired:  # merged already: its lines must not be added a second time
            raise CartRetired(f"cart {guest.id} is retired")
        self._touch(now)
        added, combined, capped, skipped = [], [], [], []
        ids = iter(new_line_id)
        for line in guest.lines:
            existing = self.line_for_sku(line.sku)
            if existing is None:
                if len(self.lines) >= MAX_LINES:
                    skipped.append(line.sku)
                    continue
                self.lines.append(replace(line, id=next(ids)))
                added.append(line.sku)
                continue
            total = existing.quantity + line.quantity
            if total > self.line_limit:
                capped.append(line.sku)
                total = self.line_limit
            combined.append(line.sku)
            merged = replace(existing, quantity=total)  # the price seen here stays
            self.lines = [merged if x.id == existing.id else x for x in self.lines]
        coupons = []
        for code in guest.coupon_codes:
            if code not in self.coupon_codes and len(self.coupon_codes) < MAX_COUPONS:
                self.coupon_codes.append(code)
                coupons.append(code)
        guest.retire(now=now)
        return MergeReport(
            added=tuple(added), combined=tuple(combined), capped=tuple(capped),
            skipped=tuple(skipped), coupons=tuple(coupons),
        )

    def retire(self, *, now: datetime) -> None:
        self._touch(now)
        self.retired = True

    def reopen(self, *, now: datetime) -> None:
        """A retired guest cart whose cookie is still in use starts over, empty (same id, next version)."""
        self.lines = []
        self.coupon_codes = []
        self.retired = False
        self.updated_at = now
