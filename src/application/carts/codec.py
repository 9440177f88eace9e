"""Carts as JSON-ready builtins for the cache and the durable copy (one format for both)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.carts.cart import Cart, CartLine, Owner, OwnerKind

FORMAT = 1


def cart_to_builtins(cart: Cart) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "id": cart.id,
        "owner": {"kind": cart.owner.kind.value, "id": cart.owner.id},
        "currency": cart.currency,
        "channel": cart.channel,
        "created_at": cart.created_at.isoformat(),
        "updated_at": cart.updated_at.isoformat(),
        "lines": [
            {
                "id": line.id, "sku": line.sku, "quantity": line.quantity,
                "added_at": line.added_at.isoformat(), "seen_unit_price": line.seen_unit_price,
            }
            for line in cart.lines
        ],
        "coupon_codes": list(cart.coupon_codes),
        "retired": cart.retired,
        "version": cart.version,
        "line_limit": cart.line_limit,
    }


def cart_from_builtins(data: dict[str, Any]) -> Cart:
    return Cart(
        id=data["id"],
        owner=Owner(OwnerKind(data["owner"]["kind"]), data["owner"]["id"]),
        currency=data["currency"],
        channel=data["channel"],
        created_at=datetime.fromisoformat(data["created_at"]),
        updated_at=datetime.fromisoformat(data["updated_at"]),
        lines=[
            CartLine(
                id=line["id"], sku=line["sku"], quantity=line["quantity"],
                added_at=datetime.fromisoformat(line["added_at"]), seen_unit_price=line.get("seen_unit_price"),
            )
            for line in data["lines"]
        ],
        coupon_codes=list(data["coupon_codes"]),
        retired=data["retired"],
        version=data["version"],
        line_limit=data["line_limit"],
    )
