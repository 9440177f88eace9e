"""Listing semantics shared by every read-model adapter: sort keys and opaque keyset cursors."""

from __future__ import annotations

import base64
from typing import Any

import msgspec

from application.catalog.errors import BadCursor
from application.catalog.read_models import ProductDocument, ProductQuery
from domain.shared.errors import InvalidInput

SORTS = ("newest", "name", "price_asc", "price_desc")


def scopes(document: ProductDocument) -> list[str]:
    """The categories whose pages list the product: those it names and every one above them."""
    return list(dict.fromkeys([*document.category_ids, *(c.id for c in document.categories)]))


def price_in(document: ProductDocument, currency: str) -> int | None:
    return next((p.amount for p in document.price_from if p.currency == currency), None)


def sort_key(document: ProductDocument, query: ProductQuery) -> tuple[Any, str]:
    """(primary key, id): ids break ties, so a keyset cursor never skips or repeats an item."""
    if query.sort == "name":
        return (document.name.lower(), document.id)
    if query.sort in ("price_asc", "price_desc"):
        return (price_in(document, query.currency) or 0, document.id)
    return (document.id, document.id)  # ids are time-ordered: newest first means descending


def descending(query: ProductQuery) -> bool:
    return query.sort in ("newest", "price_desc")


def encode_cursor(key: tuple[Any, str]) -> str:
    return base64.urlsafe_b64encode(msgspec.json.encode(list(key))).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[Any, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        primary, product_id = msgspec.json.decode(base64.urlsafe_b64decode(padded))
    except (ValueError, TypeError, msgspec.DecodeError):
        raise BadCursor("the cursor is not one this API gave out") from None
    return primary, str(product_id)


def attribute_matches(value: Any, wanted: str) -> bool:
    """``?attr.colour=red`` matches a text ``red``, a multi-value list holding ``red``, ``true``/``false``."""
    if isinstance(value, list):
        return wanted in value
    if isinstance(value, bool):
        return str(value).lower() == wanted.lower()
    return value is not None and str(value) == wanted


def check_query(query: ProductQuery) -> None:
    if query.sort not in SORTS:
        raise InvalidInput(f"sort must be one of {', '.join(SORTS)}")
    if query.min_price is not None and query.max_price is not None and query.min_price > query.max_price:
        raise InvalidInput("min_price is above max_price")
