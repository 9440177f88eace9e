"""RFC 9457 problem details: one table maps every error to a status and a stable type."""

from __future__ import annotations

import logging
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from sqlalchemy.exc import TimeoutError as PoolTimeout

from application.carts.handlers import CartNotFound, NotPurchasable, UnknownCoupon, UnknownSku
from application.carts.pricing import UnknownChannel
from application.checkout.errors import CartHasIssues, CheckoutNotFound, EmptyCart, UnknownPaymentProvider
from application.customers.handlers import TooManyAttempts
from application.messaging.bus import UnknownCommand
from application.orders.handlers import OrderNotVisible
from application.ports.payments import PaymentError, WebhookRejected
from application.promotions.ports import CouponExhausted, PromotionExhausted
from application.search.queries import BadSearch
from domain.carts.cart import CartFull, CartRetired, LineNotFound, QuantityOutOfRange
from domain.checkout.checkout import CartChanged, CheckoutClosed, CheckoutIncomplete
from domain.customers.customer import EmailTaken, InvalidCredentials, InvalidResetToken, WeakPassword
from domain.giftcards.giftcard import GiftCardError, GiftCardNotFound, InsufficientBalance
from domain.inventory.errors import InsufficientStock, OutOfStock, ReservationClosed
from domain.orders.order import InvalidTransition, RefundTooLarge
from domain.promotions.errors import ParseError
from domain.shared.address import InvalidAddress
from domain.shared.errors import ConcurrencyConflict, Conflict, DomainError, InvalidInput, NotFound
from domain.shared.money import CurrencyMismatch, InvalidCurrency
from domain.shipping.rates import MethodNotOffered, UnsupportedDestination

logger = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://emporium.dev/problems/"

# Most specific first: the first matching class wins.
ERROR_TABLE: list[tuple[type[BaseException], int, str, str]] = [
    (OutOfStock, 409, "out-of-stock", "Sold out"),
    (BadSearch, 400, "bad-search", "Invalid search parameters"),
    (TooManyAttempts, 429, "too-many-attempts", "Too many attempts"),
    (InvalidCredentials, 401, "invalid-credentials", "Wrong e-mail or password"),
    (EmailTaken, 409, "email-taken", "An account with this e-mail exists"),
    (WeakPassword, 422, "weak-password", "The password is too weak"),
    (InvalidResetToken, 400, "invalid-reset-token", "The reset link is invalid or has expired"),
    (InvalidAddress, 422, "invalid-address", "The address is not valid for its country"),
    (WebhookRejected, 400, "webhook-rejected", "Webhook signature or payload invalid"),
    (PaymentError, 402, "payment-failed", "The payment provider refused"),
    (ParseError, 422, "rule-parse-error", "The rule could not be read"),
    (InsufficientBalance, 409, "gift-card-balance", "The gift card holds less than that"),
    (GiftCardNotFound, 404, "gift-card-not-found", "No such gift card"),
    (GiftCardError, 422, "gift-card", "The gift card cannot pay for this"),
    (CouponExhausted, 409, "coupon-exhausted", "The coupon has been used up"),
    (PromotionExhausted, 409, "promotion-exhausted", "The promotion reached its limit"),
    (OrderNotVisible, 404, "order-not-found", "No such order"),
    (CheckoutNotFound, 404, "checkout-not-found", "No such checkout"),
    (EmptyCart, 422, "empty-cart", "The cart is empty"),
    (CartHasIssues, 409, "cart-has-issues", "Some cart lines are unavailable"),
    (CartChanged, 409, "cart-changed", "The cart changed after payment started"),
    (CheckoutClosed, 409, "checkout-closed", "The checkout was placed"),
    (CheckoutIncomplete, 422, "checkout-incomplete", "A checkout step is missing"),
    (UnknownPaymentProvider, 422, "unknown-payment-provider", "Unknown payment provider"),
    (UnsupportedDestination, 422, "unsupported-destination", "We do not ship there"),
    (MethodNotOffered, 422, "shipping-method-not-offered", "Shipping method not offered"),
    (InvalidTransition, 409, "invalid-transition", "The order's state does not allow this"),
    (RefundTooLarge, 422, "refund-too-large", "Refund above what was captured"),
    (UnknownChannel, 400, "unknown-channel", "No such sales channel"),
    (CartNotFound, 404, "cart-not-found", "No cart"),
    (LineNotFound, 404, "cart-line-not-found", "No such line in this cart"),
    (UnknownSku, 422, "unknown-sku", "No product sells this SKU"),
    (NotPurchasable, 422, "not-purchasable", "This SKU cannot be bought now"),
    (UnknownCoupon, 422, "unknown-coupon", "This coupon code is not valid"),
    (QuantityOutOfRange, 422, "quantity-out-of-range", "Quantity out of range"),
    (CartFull, 422, "cart-full", "The cart is full"),
    (CartRetired, 409, "cart-retired", "The cart was merged or checked out"),
    (InsufficientStock, 409, "insufficient-stock", "Not enough stock"),
    (ReservationClosed, 409, "reservation-closed", "The reservation is already closed"),
    (ConcurrencyConflict, 409, "concurrency-conflict", "The resource changed; retry"),
    (CurrencyMismatch, 422, "currency-mismatch", "Currencies do not match"),
    (InvalidCurrency, 422, "invalid-currency", "Unsupported currency"),
    (NotFound, 404, "not-found", "Not found"),
    (Conflict, 409, "conflict", "Conflict"),
    (InvalidInput, 422, "invalid-input", "Invalid input"),
    (DomainError, 422, "domain-rule", "Request refused by a business rule"),
]


def register_error(error: type[BaseException], status: int, slug: str, title: str) -> None:
    """Contexts add their specific errors here (ahead of the generic ones)."""
    ERROR_TABLE.insert(0, (error, status, slug, title))


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


def domain_error_handler(_: Request[Any, Any, Any], error: Exception) -> Response[dict[str, Any]]:
    for cls, status, slug, title in ERROR_TABLE:
        if isinstance(error, cls):
            specific = slug if cls is type(error) else _error_slug(error)
            extra: dict[str, Any] = {}
            headers = None
            if isinstance(error, OutOfStock):
                extra["skus"] = error.skus
            if isinstance(error, InvalidAddress):
                extra["errors"] = error.errors
            if isinstance(error, ParseError):
                extra["position"] = error.position
            if isinstance(error, TooManyAttempts):
                headers = {"Retry-After": str(error.retry_after)}
            return problem(status, specific, title, str(error) or None, headers=headers, **extra)
    return internal_error_handler(_, error)


def validation_handler(_: Request[Any, Any, Any], error: ValidationException) -> Response[dict[str, Any]]:
    errors = error.extra if isinstance(error.extra, list) else []
    return problem(400, "validation-error", "Invalid request", str(error.detail), errors=errors)


def http_error_handler(_: Request[Any, Any, Any], error: HTTPException) -> Response[dict[str, Any]]:
    slug = {
        400: "bad-request", 401: "unauthorized", 403: "forbidden", 404: "not-found", 405: "method-not-allowed",
        409: "conflict", 413: "payload-too-large", 429: "too-many-requests", 503: "unavailable",
    }.get(error.status_code, "http-error")
    headers = dict(error.headers or {})
    return problem(error.status_code, slug, str(error.detail), headers=headers or None)


def pool_timeout_handler(_: Request[Any, Any, Any], error: Exception) -> Response[dict[str, Any]]:
    logger.warning("database pool exhausted: %s", error)
    return problem(
        503, "overloaded", "Service busy, retry shortly", headers={"Retry-After": "1"}
    )


def internal_error_handler(_: Request[Any, Any, Any], error: Exception) -> Response[dict[str, Any]]:
    logger.error("unhandled error", exc_info=error)
    return problem(500, "internal-error", "Internal server error")


EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {
    DomainError: domain_error_handler,
    ValidationException: validation_handler,
    HTTPException: http_error_handler,
    PoolTimeout: pool_timeout_handler,
    UnknownCommand: internal_error_handler,
    Exception: internal_error_handler,
}

__all__ = ["EXCEPTION_HANDLERS", "PROBLEM_JSON", "MediaType", "problem", "register_error"]
