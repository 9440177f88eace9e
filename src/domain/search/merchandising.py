"""Merchandising rules a merchandiser sets on search: synonyms, pins, boosts, burials, redirects."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from domain.shared.errors import InvalidInput

MAX_RULE_PRODUCTS = 50
MAX_GROUP_TERMS = 20
_SPACES = re.compile(r"\s+")


class MerchandisingError(InvalidInput):
    """A synonym group, rule or redirect breaks a rule; nothing is stored."""


def normalise(text: str) -> str:
    """The form queries are compared in: lower case, single spaces, trimmed."""
    return _SPACES.sub(" ", text.strip().lower())


class RuleKind(Enum):
    PIN = "pin"
    BOOST = "boost"
    BURY = "bury"


@dataclass(frozen=True, slots=True, kw_only=True)
class SynonymGroup:
    """Terms a shopper means interchangeably ("sneakers", "trainers", "running shoes")."""

    id: str
    terms: tuple[str, ...]

    @classmethod
    def create(cls, *, id: str, terms: list[str]) -> SynonymGroup:
        cleaned = tuple(dict.fromkeys(normalise(t) for t in terms if normalise(t)))
        if len(cleaned) < 2:
            raise MerchandisingError("a synonym group needs at least two different terms")
        if len(cleaned) > MAX_GROUP_TERMS:
            raise MerchandisingError(f"a synonym group holds at most {MAX_GROUP_TERMS} terms")
        if any(len(t) > 100 for t in cleaned):
            raise MerchandisingError("a synonym is at most 100 characters")
        return cls(id=id, terms=cleaned)


@dataclass(frozen=True, slots=True, kw_only=True)
class MerchandisingRule:
    """Pin, boost or bury products when a shopper searches ``query`` or browses ``category_id``."""

    id: str
    kind: RuleKind
    product_ids: tuple[str, ...]
    query: str | None = None
    category_id: str | None = None

    @classmethod
    def create(cls, *, id: str, kind: str, product_ids: list[str], query: str | None = None,
               category_id: str | None = None) -> MerchandisingRule:
        try:
            rule_kind = RuleKind(kind)
        except ValueError:
            raise MerchandisingError(f"a rule is one of {', '.join(k.value for k in RuleKind)}") from None
        trigger = normalise(query) if query is not None else None
        if (trigger is None) == (category_id is None) or trigger == "":
            raise MerchandisingError("a rule applies to either a query or a category, not both")
        ids = tuple(dict.fromkeys(product_ids))
        if not ids or len(ids) > MAX_RULE_PRODUCTS:
            raise MerchandisingError(f"a rule names 1 to {MAX_RULE_PRODUCTS} products")
        return cls(id=id, kind=rule_kind, product_ids=ids, query=trigger, category_id=category_id)

    def applies_to(self, query: str, category_id: str | None) -> bool:
        if self.query is not None:
            return self.query == normalise(query)
        return category_id is not None and self.category_id == category_id


@dataclass(frozen=True, slots=True, kw_only=True)
class Redirect:
    """Send a query straight to a page ("returns" -> /pages/returns)."""

    id: str
    query: str
    url: str

    @classmethod
    def create(cls, *, id: str, query: str, url: str) -> Redirect:
        trigger = normalise(query)
        if not trigger:
            raise MerchandisingError("a redirect needs a query")
        if not (url.startswith(("/", "https://"))) or len(url) > 500 or " " in url:
            raise MerchandisingError("a redirect goes to a path (/...) or an https:// URL")
        return cls(id=id, query=trigger, url=url)


def arrange(ranked: list[str], rules: list[MerchandisingRule]) -> list[str]:
    """Apply rules to a ranked list of ids: pins first (in rule order), then boosts, the rest, burials last.

    Pinned products are placed even if the engine did not rank them; a product pinned and buried stays pinned.
    """
    pinned = list(dict.fromkeys(p for r in rules if r.kind is RuleKind.PIN for p in r.product_ids))
    boosted = {p for r in rules if r.kind is RuleKind.BOOST for p in r.product_ids} - set(pinned)
    buried = {p for r in rules if r.kind is RuleKind.BURY for p in r.product_ids} - set(pinned) - boosted
    rest = [p for p in ranked if p not in set(pinned)]
    return (pinned + [p for p in rest if p in boosted] + [p for p in rest if p not in boosted and p not in buried]
            + [p for p in rest if p in buried])
