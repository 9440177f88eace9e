"""Merchant reports (support and owner roles): JSON, or CSV with ?format=csv."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, get
from litestar.params import QueryParameter

from application.analytics.errors import InvalidReportRange
from application.analytics.handlers import (
    funnel_report,
    promotions_report,
    search_terms_report,
    top_products_report,
    top_viewed_report,
)
from application.orders.queries import SalesReport
from domain.staff.roles import Role
from entrypoints.http.auth import roles, staff_guard
from entrypoints.http.dependencies import Bus

MAX_RANGE_DAYS = 366
Currency = Annotated[str | None, QueryParameter(pattern="^[A-Z]{3}$")]


def as_csv(rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]) if rows else [])
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def _check_range(start: date, end: date) -> None:
    if end < start or (end - start).days > MAX_RANGE_DAYS:
        raise InvalidReportRange(f"'to' must be on or after 'from' and within {MAX_RANGE_DAYS} days")


def _respond(rows: list[Any], output: str, *, single: bool = False) -> Response[Any]:
    headers = {"Cache-Control": "private, no-store"}
    if output == "csv":
        return Response(as_csv([msgspec.to_builtins(r) for r in rows]), media_type="text/csv", headers=headers)
    return Response(rows[0] if single else rows, headers=headers)


class ReportsController(Controller):
    path = "/admin/reports"
    tags = ["admin: reports"]
    guards = [staff_guard]

    @get("/search-terms", operation_id="admin_report_search_terms", opt=roles(Role.SUPPORT, Role.MERCHANDISER))
    async def search_terms(
        self,
        request: Request[Any, Any, Any],
        start: Annotated[date, QueryParameter(name="from")],
        end: Annotated[date, QueryParameter(name="to")],
        zero_results: Annotated[bool, QueryParameter(name="zero_results")] = False,
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 50,
        output: Annotated[Literal["json", "csv"], QueryParameter(name="format")] = "json",
    ) -> Response[Any]:
        _check_range(start, end)
        rows = await search_terms_report(
            start, end, zero_results=zero_results, limit=limit, uow=request.app.state.container.uow_factory()
        )
        return _respond(rows, output)

    @get("/top-viewed", operation_id="admin_report_top_viewed", opt=roles(Role.SUPPORT, Role.MERCHANDISER))
    async def top_viewed(
        self,
        request: Request[Any, Any, Any],
        start: Annotated[date, QueryParameter(name="from")],
        end: Annotated[date, QueryParameter(name="to")],
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 50,
        output: Annotated[Literal["json", "csv"], QueryParameter(name="format")] = "json",
    ) -> Response[Any]:
        _check_range(start, end)
        rows = await top_viewed_report(start, end, limit=limit, uow=request.app.state.container.uow_factory())
        return _respond(rows, output)

    @get("/funnel", operation_id="admin_report_funnel", opt=roles(Role.SUPPORT))
    async def funnel(
        self,
        request: Request[Any, Any, Any],
        start: Annotated[date, QueryParameter(name="from")],
        end: Annotated[date, QueryParameter(name="to")],
        output: Annotated[Literal["json", "csv"], QueryParameter(name="format")] = "json",
    ) -> Response[Any]:
        _check_range(start, end)
        report = await funnel_report(start, end, uow=request.app.state.container.uow_factory())
        return _respond([report], output, single=True)

    @get("/sales", operation_id="admin_report_sales", opt=roles(Role.SUPPORT))
    async def sales(
        self, bus: Bus,

        start: Annotated[date, QueryParameter(name="from")],
        end: Annotated[date, QueryParameter(name="to")],
        output: Annotated[Literal["json", "csv"], QueryParameter(name="format")] = "json",
    ) -> Response[Any]:
        """Sales per day per currency: gross, discounts, tax, shipping, refunds and net."""
        _check_range(start, end)
        rows = await bus.handle(SalesReport(start=start, end=end))
        return _respond(rows, output)

    @get("/top-products", operation_id="admin_report_top_products", opt=roles(Role.SUPPORT, Role.MERCHANDISER))
    async def top_products(
        self,
        request: Request[Any, Any, Any],
        start: Annotated[date, QueryParameter(name="from")],
        end: Annotated[date, QueryParameter(name="to")],
        currency: Currency = None,
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 50,
        output: Annotated[Literal["json", "csv"], QueryParameter(name="format")] = "json",
    ) -> Response[Any]:
        """Best sellers per currency (units, revenue) over orders paid in the range."""
        _check_range(start, end)
        rows = await top_products_report(
            start, end, currency=currency, limit=limit, uow=request.app.state.container.uow_factory()
        )
        return _respond(rows, output)

    @get("/promotions", operation_id="admin_report_promotions", opt=roles(Role.SUPPORT, Role.MERCHANDISER))
    async def promotions(
        self,
        request: Request[Any, Any, Any],
        start: Annotated[date, QueryParameter(name="from")],
        end: Annotated[date, QueryParameter(name="to")],
        currency: Currency = None,
        output: Annotated[Literal["json", "csv"], QueryParameter(name="format")] = "json",
    ) -> Response[Any]:
        """Margin impact: discount given per promotion version, beside the revenue of the orders using it."""
        _check_range(start, end)
        rows = await promotions_report(start, end, currency=currency, uow=request.app.state.container.uow_factory())
        return _respond(rows, output)
