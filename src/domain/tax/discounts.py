"""Tax bases of discounted lines: an order-level discount is spread over the lines it reduces."""

from __future__ import annotations

from collections.abc import Sequence

from domain.shared.money import Money

__all__ = ["tax_bases"]


def tax_bases(line_totals: Sequence[int], order_discount: int, currency: str) -> list[int]:
    """Each line's tax base: its total (after its own discounts) less its share of ``order_discount``.

    The discount is split in proportion to the line totals without losing a minor unit
    (``Money.allocate``: a leftover unit goes to the line with the largest remainder), so the bases
    add up to ``sum(line_totals) - order_discount``. No discount, or no line with a positive total,
    leaves the totals as they are.
    """
    if not order_discount or sum(line_totals) <= 0:
        return list(line_totals)
    spread = Money(order_discount, currency).allocate(list(line_totals))
    return [total - share.amount for total, share in zip(line_totals, spread, strict=True)]
