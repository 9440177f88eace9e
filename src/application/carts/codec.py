"""Carts as JSON-ready builtins for the cache and the durable copy (one format for both)."""

from __future__ import annotations

from typing import Any

from application.messaging.codec import aggregate_from_builtins, aggregate_to_builtins
from domain.carts.cart import Cart


def cart_to_builtins(cart: Cart) -> dict[str, Any]:
    return aggregate_to_builtins(cart)


def cart_from_builtins(data: dict[str, Any]) -> Cart:
    return aggregate_from_builtins(data, Cart)
