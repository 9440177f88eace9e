"""RFC 9457 problem details: one map from error class to a status and a stable type.

An error resolves to the nearest class of its MRO found in ``ERRORS``, so the map's order does not matter:
a subclass mapped on its own wins over its base wherever either is written. An error that resolves to a
base class (not its own) reports a type derived from its own class name with the base's status and title.
"""

from __future__ import annotations

import logging
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from prometheus_client import Counter

from application.analytics.errors import InvalidReportRange, TrackingRateLimited
from application.carts.errors import (
    CartNotFound,
    CouponGuessesLimited,
    NotPurchasable,
    UnknownChannel,
    UnknownCoupon,
    UnknownSku,
)
from application.catalog.errors import PriceRulesWouldBeLost, UnknownCategories, UnknownFilter
from application.checkout.errors import (
    CartHasIssues,
    CheckoutNotFound,
    CheckoutRecordNotFound,
    EmptyCart,
    IdempotencyKeyRequired,
    UnknownPaymentProvider,
)
from application.customers.errors import SignInRequired, TooManyAttempts
from application.drops.errors import AdmissionRefused, AdmissionRequired, DropNotOpen, NoWaitingRoom
from application.messaging.bus import UnknownCommand
from application.orders.errors import OrderNotVisible
from application.payments.errors import OnlinePaymentRequired, UnknownWebhookProvider
from application.ports.errors import Unavailable
from application.ports.media import ImageTooLarge
from application.ports.payments import PaymentError, WebhookRejected
from application.promotions.errors import CouponExhausted, PromotionExhausted
from application.search.errors import BadSearch, UnknownSearchFilter
from application.staff.errors import StaffForbidden, StaffUnauthenticated
from domain.carts.cart import CartFull, CartRetired, LineNotFound, QuantityOutOfRange
from domain.catalog.errors import AttributesRefused, ProductTypeInUse
from domain.checkout.checkout import CartChanged, CheckoutClosed, CheckoutIncomplete
from domain.customers.customer import EmailTaken, InvalidCredentials, InvalidResetToken, WeakPassword
from domain.giftcards.giftcard import GiftCardError, GiftCardNotFound, InsufficientBalance
from domain.inventory.errors import InsufficientStock, OutOfStock, PurchaseLimitReached, ReservationClosed
from domain.invoicing.documents import DocumentNotFound, DocumentNotReady
from domain.orders.order import InvalidTransition, RefundTooLarge
from domain.promotions.errors import ParseError
from domain.shared.address import InvalidAddress
from domain.shared.errors import ConcurrencyConflict, Conflict, DomainError, InvalidInput, NotFound
from domain.shared.money import CurrencyMismatch, InvalidCurrency
from domain.shipping.rates import MethodNotOffered, NoShippingMethod, UnsupportedDestination
from domain.shipping.validation import InvalidShipping, ShippingZoneInUse
from domain.tax.rates import InvalidTaxRate, TaxRateNotFound, UnknownTaxClass, UntaxedDestination
from entrypoints.http.catalog_problems import CATALOG_ERRORS
from entrypoints.http.problem_kinds import Problem

logger = logging.getLogger(__name__)
# Every domain refusal by problem type (a purchase limit, an admission refused, sold out …); /metrics
# serves it (registered there: ``entrypoints.http.metrics``).
REFUSALS = Counter("emporium_refusals_total", "Requests refused by a business rule, by problem type", ["type"],
                   registry=None)

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://emporium.dev/problems/"


# Any order: resolution walks the error's MRO (see ``resolve``).
ERRORS: dict[type[BaseException], Problem] = {
    # shared roots
    DomainError: Problem(422, "domain-rule", "Request refused by a business rule"),
    NotFound: Problem(404, "not-found", "Not found"),
    Conflict: Problem(409, "conflict", "Conflict"),
    InvalidInput: Problem(422, "invalid-input", "Invalid input"),
    ConcurrencyConflict: Problem(409, "concurrency-conflict", "The resource changed; retry"),
    CurrencyMismatch: Problem(422, "currency-mismatch", "Currencies do not match"),
    InvalidCurrency: Problem(422, "invalid-currency", "Unsupported currency"),
    InvalidAddress: Problem(422, "invalid-address", "The address is not valid for its country"),
    Unavailable: Problem(503, "overloaded", "Service busy, retry shortly", detail=False),
    # analytics
    InvalidReportRange: Problem(400, "validation-error", "Invalid request"),
    TrackingRateLimited: Problem(429, "too-many-requests", None),
    # carts
    CartNotFound: Problem(404, "cart-not-found", "No cart"),
    LineNotFound: Problem(404, "cart-line-not-found", "No such line in this cart"),
    UnknownSku: Problem(422, "unknown-sku", "No product sells this SKU"),
    NotPurchasable: Problem(422, "not-purchasable", "This SKU cannot be bought now"),
    UnknownCoupon: Problem(422, "unknown-coupon", "This coupon code is not valid"),
    UnknownChannel: Problem(400, "unknown-channel", "No such sales channel"),
    QuantityOutOfRange: Problem(422, "quantity-out-of-range", "Quantity out of range"),
    CartFull: Problem(422, "cart-full", "The cart is full"),
    CartRetired: Problem(409, "cart-retired", "The cart was merged or checked out"),
    # catalog (entrypoints/http/catalog_problems.py)
    **CATALOG_ERRORS,
    # checkout
    CheckoutNotFound: Problem(404, "checkout-not-found", "No such checkout"),
    CheckoutRecordNotFound: Problem(404, "checkout-not-found", "Not found"),
    EmptyCart: Problem(422, "empty-cart", "The cart is empty"),
    CartHasIssues: Problem(409, "cart-has-issues", "Some cart lines are unavailable"),
    CartChanged: Problem(409, "cart-changed", "The cart changed after payment started"),
    CheckoutClosed: Problem(409, "checkout-closed", "The checkout was placed"),
    CheckoutIncomplete: Problem(422, "checkout-incomplete", "A checkout step is missing"),
    UnknownPaymentProvider: Problem(422, "unknown-payment-provider", "Unknown payment provider"),
    IdempotencyKeyRequired: Problem(400, "bad-request", None),
    UnsupportedDestination: Problem(422, "unsupported-destination", "We do not ship there"),
    NoShippingMethod: Problem(422, "no-shipping-method", "We do not ship there in this currency"),
    MethodNotOffered: Problem(422, "shipping-method-not-offered", "Shipping method not offered"),
    UntaxedDestination: Problem(422, "untaxable-destination", "We cannot tax a sale there"),
    # tax
    UnknownTaxClass: Problem(422, "unknown-tax-class", "Unknown tax class"),
    InvalidTaxRate: Problem(422, "invalid-tax-rate", "Invalid tax rate"),
    TaxRateNotFound: Problem(404, "tax-rate-not-found", "No such tax rate"),
    # customers
    TooManyAttempts: Problem(429, "too-many-attempts", "Too many attempts"),
    CouponGuessesLimited: Problem(429, "too-many-coupon-guesses", "Too many coupon codes tried"),
    InvalidCredentials: Problem(401, "invalid-credentials", "Wrong e-mail or password"),
    EmailTaken: Problem(409, "email-taken", "An account with this e-mail exists"),
    WeakPassword: Problem(422, "weak-password", "The password is too weak"),
    InvalidResetToken: Problem(400, "invalid-reset-token", "The reset link is invalid or has expired"),
    SignInRequired: Problem(401, "unauthorized", None),
    # gift cards
    InsufficientBalance: Problem(409, "gift-card-balance", "The gift card holds less than that"),
    GiftCardNotFound: Problem(404, "gift-card-not-found", "No such gift card"),
    GiftCardError: Problem(422, "gift-card", "The gift card cannot pay for this"),
    # inventory
    OutOfStock: Problem(409, "out-of-stock", "Sold out"),
    PurchaseLimitReached: Problem(409, "purchase-limit", "Purchase limit reached"),
    AdmissionRequired: Problem(403, "admission-required", "Join the drop's waiting room first"),
    AdmissionRefused: Problem(403, "admission-refused", "This admission is not good here"),
    DropNotOpen: Problem(409, "drop-not-open", "The drop is not open"),
    NoWaitingRoom: Problem(409, "no-waiting-room", "This drop has no waiting room"),
    InsufficientStock: Problem(409, "insufficient-stock", "Not enough stock"),
    ReservationClosed: Problem(409, "reservation-closed", "The reservation is already closed"),
    # orders
    OrderNotVisible: Problem(404, "order-not-found", "No such order"),
    DocumentNotFound: Problem(404, "document-not-found", "No such invoice or credit note"),
    DocumentNotReady: Problem(404, "document-not-ready", "The document is being prepared; ask again shortly"),
    InvalidTransition: Problem(409, "invalid-transition", "The order's state does not allow this"),
    RefundTooLarge: Problem(422, "refund-too-large", "Refund above what was captured"),
    # payments
    WebhookRejected: Problem(400, "webhook-rejected", "Webhook signature or payload invalid"),
    PaymentError: Problem(402, "payment-failed", "The payment provider refused"),
    UnknownWebhookProvider: Problem(404, "not-found", None),
    OnlinePaymentRequired: Problem(422, "online-payment-required", "These items must be paid online"),
    # promotions
    ParseError: Problem(422, "rule-parse-error", "The rule could not be read"),
    CouponExhausted: Problem(409, "coupon-exhausted", "The coupon has been used up"),
    PromotionExhausted: Problem(409, "promotion-exhausted", "The promotion reached its limit"),
    # search
    BadSearch: Problem(400, "bad-search", "Invalid search parameters"),
    UnknownSearchFilter: Problem(400, "validation-error", "Invalid request"),
    # staff
    StaffUnauthenticated: Problem(401, "unauthorized", None),
    StaffForbidden: Problem(403, "forbidden", None),
}

# Errors reported the way the framework reports a failed validation: with an (empty) list of field errors.
_VALIDATION_ERRORS = (InvalidReportRange, UnknownFilter, UnknownSearchFilter)
_STAFF_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="admin"'}


def register_error(error: type[BaseException], status: int, slug: str, title: str) -> None:
    """Contexts add their specific errors here (a subclass wins over its mapped bases wherever it is added)."""
    ERRORS[error] = Problem(status, slug, title)


def resolve(error_type: type[BaseException]) -> tuple[type[BaseException], Problem] | None:
    """The nearest class of ``error_type``'s MRO that ``ERRORS`` maps, and how it is reported."""
    for cls in error_type.__mro__:
        found = ERRORS.get(cls)
        if found is not None:
            return cls, found
    return None


def problem(
    status: int, slug: str, title: str, detail: str | None = None,
    headers: dict[str, str] | None = None, **extra: Any,
) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {"type": TYPE_BASE + slug, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _error_slug(error: BaseException) -> str:
    name = type(error).__name__
    return "".join("-" + c.lower() if c.isupper() else c for c in name).lstrip("-")


def _extras(error: BaseException) -> tuple[dict[str, Any], dict[str, str] | None]:
    extra: dict[str, Any] = {}
    headers: dict[str, str] | None = None
    if isinstance(error, OutOfStock | OnlinePaymentRequired | PurchaseLimitReached | PriceRulesWouldBeLost):
        extra["skus"] = error.skus
    if isinstance(error, PurchaseLimitReached | ImageTooLarge):
        extra["limit"] = error.limit
    if isinstance(error, AdmissionRequired | AdmissionRefused):
        extra["drop_id"] = error.drop_id
    if isinstance(error, UnknownCategories):
        extra["category_ids"] = error.category_ids
    if isinstance(error, UntaxedDestination | UnsupportedDestination):
        extra["country"] = getattr(error, "country", None)
        extra["region"] = getattr(error, "region", None)
    if isinstance(error, NoShippingMethod | InvalidShipping | ShippingZoneInUse):  # the currency, field or methods
        extra.update({k: getattr(error, k) for k in ("currency", "field", "method_ids") if hasattr(error, k)})
    if isinstance(error, InvalidAddress | AttributesRefused | ProductTypeInUse):
        extra["errors"] = error.errors  # field (or attribute) -> what is wrong with it
    if isinstance(error, ParseError):
        extra["position"] = error.position
    if isinstance(error, _VALIDATION_ERRORS):
        extra["errors"] = []
    if isinstance(error, TooManyAttempts | TrackingRateLimited | Unavailable | CouponGuessesLimited):
        headers = {"Retry-After": str(error.retry_after)}
    if isinstance(error, StaffUnauthenticated):
        headers = dict(_STAFF_CHALLENGE)
    return extra, headers


def error_handler(request: Request[Any, Any, Any], error: Exception) -> Response[dict[str, Any]]:
    resolved = resolve(type(error))
    if resolved is None:
        return internal_error_handler(request, error)
    cls, found = resolved
    slug = found.slug if cls is type(error) else _error_slug(error)
    if found.title is None:
        title, detail = str(error), None
    else:
        title, detail = found.title, (str(error) or None) if found.detail else None
    if isinstance(error, Unavailable):
        logger.warning("service unavailable: %s", error)
    extra, headers = _extras(error)
    REFUSALS.labels(slug).inc()
    return problem(found.status, slug, title, detail, headers=headers, **extra)


def validation_handler(_: Request[Any, Any, Any], error: ValidationException) -> Response[dict[str, Any]]:
    errors = error.extra if isinstance(error.extra, list) else []
    return problem(400, "validation-error", "Invalid request", str(error.detail), errors=errors)


def http_error_handler(_: Request[Any, Any, Any], error: HTTPException) -> Response[dict[str, Any]]:
    """Errors the framework raises itself (404 for an unknown route, 405, 413 …)."""
    slug = {
        400: "bad-request", 401: "unauthorized", 403: "forbidden", 404: "not-found", 405: "method-not-allowed",
        409: "conflict", 413: "payload-too-large", 415: "unsupported-media-type", 429: "too-many-requests",
        503: "unavailable",
    }.get(error.status_code, "http-error")
    headers = dict(error.headers or {})
    return problem(error.status_code, slug, str(error.detail), headers=headers or None)


def internal_error_handler(_: Request[Any, Any, Any], error: Exception) -> Response[dict[str, Any]]:
    logger.error("unhandled error", exc_info=error)
    return problem(500, "internal-error", "Internal server error")


EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {
    DomainError: error_handler,
    Unavailable: error_handler,
    ValidationException: validation_handler,
    HTTPException: http_error_handler,
    UnknownCommand: internal_error_handler,
    Exception: internal_error_handler,
}

__all__ = [
    "ERRORS", "EXCEPTION_HANDLERS", "PROBLEM_JSON", "MediaType", "Problem", "problem", "register_error", "resolve",
]
