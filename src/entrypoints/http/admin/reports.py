"""Merchant reports (support and owner roles): JSON, or CSV with ?format=csv."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, get
from litestar.exceptions import ValidationException
from litestar.params import QueryParameter

from application.analytics.handlers import funnel_report
from domain.staff.roles import Role
from entrypoints.http.auth import roles, staff_guard

MAX_RANGE_DAYS = 366


def as_csv(rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]) if rows else [])
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


class ReportsController(Controller):
    path = "/admin/reports"
    tags = ["admin: reports"]
    guards = [staff_guard]

    @get("/funnel", operation_id="admin_report_funnel", opt=roles(Role.SUPPORT))
    async def funnel(
        self,
        request: Request[Any, Any, Any],
        start: Annotated[date, QueryParameter(name="from")],
        end: Annotated[date, QueryParameter(name="to")],
        output: Annotated[Literal["json", "csv"], QueryParameter(name="format")] = "json",
    ) -> Response[Any]:
        if end < start or (end - start).days > MAX_RANGE_DAYS:
            raise ValidationException(f"'to' must be on or after 'from' and within {MAX_RANGE_DAYS} days")
        report = await funnel_report(start, end, uow=request.app.state.container.uow_factory())
        headers = {"Cache-Control": "private, no-store"}
        if output == "csv":
            return Response(as_csv([msgspec.to_builtins(report)]), media_type="text/csv", headers=headers)
        return Response(report, headers=headers)
