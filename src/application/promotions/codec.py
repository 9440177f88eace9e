"""Promotions as JSON-ready builtins; a rule is stored as its text form (it round-trips exactly)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.promotions.promotion import Promotion, PromotionTerms, PromotionVersion
from domain.promotions.text import parse, render
from domain.shared.money import Money


def terms_to_builtins(terms: PromotionTerms) -> dict[str, Any]:
    return {
        "name": terms.name, "rule": render(terms.rule), "priority": terms.priority,
        "exclusive_group": terms.exclusive_group, "not_combinable_with": sorted(terms.not_combinable_with),
        "max_discount_per_order": [{"amount": m.amount, "currency": m.currency} for m in terms.max_discount_per_order],
        "coupon_codes": sorted(terms.coupon_codes),
    }


def terms_from_builtins(data: dict[str, Any]) -> PromotionTerms:
    return PromotionTerms(
        name=data["name"], rule=parse(data["rule"]), priority=data["priority"],
        exclusive_group=data["exclusive_group"], not_combinable_with=frozenset(data["not_combinable_with"]),
        max_discount_per_order=tuple(Money(m["amount"], m["currency"]) for m in data["max_discount_per_order"]),
        coupon_codes=frozenset(data["coupon_codes"]),
    )


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def promotion_to_builtins(promotion: Promotion) -> dict[str, Any]:
    return {
        "id": promotion.id, "version": promotion.version, "starts_at": _time(promotion.starts_at),
        "ends_at": _time(promotion.ends_at), "archived_at": _time(promotion.archived_at),
        "versions": [
            {"number": v.number, "terms": terms_to_builtins(v.terms), "created_at": v.created_at.isoformat(),
             "published_at": _time(v.published_at)}
            for v in promotion.versions
        ],
    }


def promotion_from_builtins(data: dict[str, Any]) -> Promotion:
    return Promotion(
        id=data["id"], version=data["version"], starts_at=_parse_time(data["starts_at"]),
        ends_at=_parse_time(data["ends_at"]), archived_at=_parse_time(data["archived_at"]),
        versions=[
            PromotionVersion(number=v["number"], terms=terms_from_builtins(v["terms"]),
                             created_at=datetime.fromisoformat(v["created_at"]),
                             published_at=_parse_time(v["published_at"]))
            for v in data["versions"]
        ],
    )
