"""Catalog errors raised by the catalog use cases and storefront reads (the domain's stay in domain.catalog)."""

from __future__ import annotations

from domain.catalog.product import CatalogError
from domain.shared.errors import Conflict, InvalidInput, NotFound

__all__ = ["BadCursor", "CategoryPageNotFound", "ChannelCurrencyMismatch", "CollectionPageNotFound", "NestedBundle",
           "PriceRulesWouldBeLost", "ProductPageNotFound", "UnknownCategories", "UnknownFilter",
           "UnknownSalesChannel"]


class BadCursor(InvalidInput):
    pass


class UnknownFilter(InvalidInput):
    """A product listing was asked to filter on a parameter it does not know."""


class NestedBundle(CatalogError):
    """A bundle's component is itself a bundle: refused, not flattened (inventory holds one level of parts)."""


class UnknownCategories(InvalidInput):
    """A product names categories that do not exist (the problem lists them as ``category_ids``)."""

    def __init__(self, category_ids: list[str]) -> None:
        super().__init__(f"no such categories: {', '.join(category_ids)}")
        self.category_ids = category_ids


class ProductPageNotFound(NotFound):
    """No published product has this slug; the message is the problem's title."""


class CategoryPageNotFound(NotFound):
    """No category has this slug; the message is the problem's title."""


class CollectionPageNotFound(NotFound):
    """No collection has this slug; the message is the problem's title."""


class UnknownSalesChannel(InvalidInput):
    """A price list (or a storefront read) names a sales channel the shop does not have (``EMPORIUM_CHANNELS``)."""

    def __init__(self, channel: str) -> None:
        super().__init__(f"no sales channel {channel!r}")
        self.channel = channel


class ChannelCurrencyMismatch(InvalidInput):
    """A channel's price list (or a storefront read) in a currency other than the one the channel sells in."""


class PriceRulesWouldBeLost(Conflict):
    """A full replacement of prices (PUT) leaves out the tiers or the sale a price has: refused rather than
    deleting them silently; the problem lists the ``skus``."""

    def __init__(self, skus: list[str]) -> None:
        super().__init__(f"these prices have tiers or a sale the request leaves out: {', '.join(skus)}; "
                         "send them (or [] and null to remove them), or edit the amount alone with PATCH")
        self.skus = skus
