"""Order errors: every error class the order use cases and the order repositories raise of their own."""

from __future__ import annotations

from domain.shared.errors import NotFound

__all__ = ["OrderNotFound", "OrderNotVisible"]


class OrderNotFound(NotFound):
    """No order has this id (raised by the order repositories)."""


class OrderNotVisible(NotFound):
    pass
