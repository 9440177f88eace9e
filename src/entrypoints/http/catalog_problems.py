"""The catalog's errors as problem documents (part of ``entrypoints.http.problems.ERRORS``)."""

from __future__ import annotations

from application.catalog.errors import (
    CategoryPageNotFound,
    CollectionPageNotFound,
    NestedBundle,
    PriceRulesWouldBeLost,
    ProductPageNotFound,
    UnknownCategories,
    UnknownFilter,
    UnknownSalesChannel,
)
from application.ports.media import ImageTooLarge, NotAnImage, UnsupportedUpload
from domain.catalog.categories import CategoryInUse, CategoryNotFound
from domain.catalog.errors import AttributesRefused, ProductTypeInUse, ProductTypeNotFound
from entrypoints.http.problem_kinds import Problem

CATALOG_ERRORS: dict[type[BaseException], Problem] = {
    UnknownFilter: Problem(400, "validation-error", "Invalid request"),
    ProductPageNotFound: Problem(404, "not-found", None),
    CategoryPageNotFound: Problem(404, "not-found", None),
    CollectionPageNotFound: Problem(404, "not-found", None),
    NestedBundle: Problem(422, "nested-bundle", "A bundle cannot hold another bundle"),
    UnknownCategories: Problem(422, "unknown-category", "No such category"),
    CategoryNotFound: Problem(404, "category-not-found", "No such category"),
    CategoryInUse: Problem(409, "category-in-use", "The category is still in use"),
    AttributesRefused: Problem(422, "invalid-attributes", "The product type does not accept these attribute values"),
    ProductTypeNotFound: Problem(404, "product-type-not-found", "No such product type"),
    ProductTypeInUse: Problem(409, "product-type-in-use", "Products of this type would no longer conform"),
    UnknownSalesChannel: Problem(422, "unknown-sales-channel", "No such sales channel"),
    PriceRulesWouldBeLost: Problem(409, "price-rules-would-be-lost", "The change would delete tiers or a sale"),
    # product media (TooManyPixels, ImageNotFound, MediaNotFound: their parents' statuses, types from their names)
    NotAnImage: Problem(422, "not-an-image", "The upload is not an image the shop takes"),
    ImageTooLarge: Problem(413, "image-too-large", "The upload is too large"),
    UnsupportedUpload: Problem(415, "unsupported-media-type", "Send the image's bytes as the request body"),
}
