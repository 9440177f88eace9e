"""RFC 9457 problem details: one table maps every error to a status and a stable type."""

from __future__ import annotations

import logging
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from sqlalchemy.exc import TimeoutError as PoolTimeout

from application.messagebus import UnknownCommand
from application.search.queries import BadSearch
from domain.inventory.errors import InsufficientStock, OutOfStock, ReservationClosed
from domain.shared.errors import ConcurrencyConflict, Conflict, DomainError, InvalidInput, NotFound
from domain.shared.money import CurrencyMismatch, InvalidCurrency

logger = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://emporium.dev/problems/"

# Most specific first: the first matching class wins.
ERROR_TABLE: list[tuple[type[BaseException], int, str, str]] = [
    (OutOfStock, 409, "out-of-stock", "Sold out"),
    (BadSearch, 400, "bad-search", "Invalid search parameters"),
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
            extra = {"skus": error.skus} if isinstance(error, OutOfStock) else {}
            return problem(status, specific, title, str(error) or None, **extra)
    return internal_error_handler(_, error)


def validation_handler(_: Request[Any, Any, Any], error: ValidationException) -> Response[dict[str, Any]]:
    errors = error.extra if isinstance(error.extra, list) else []
    return problem(400, "validation-error", "Invalid request", str(error.detail), errors=errors)


def http_error_handler(_: Request[Any, Any, Any], error: HTTPException) -> Response[dict[str, Any]]:
    slug = {
        401: "unauthorized", 403: "forbidden", 404: "not-found", 405: "method-not-allowed",
        413: "payload-too-large", 429: "too-many-requests", 503: "unavailable",
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
