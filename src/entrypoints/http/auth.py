"""Staff bearer-token authentication and role guards for ``/admin``."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from application.staff.errors import StaffForbidden, StaffUnauthenticated
from application.staff.handlers import authenticate_staff
from application.staff.ports import StaffToken
from domain.staff.roles import Role, role_allows
from entrypoints.logging import actor_var


async def staff_guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """401 without a valid token, 403 when the token's role is not among the handler's ``roles``."""
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise StaffUnauthenticated("A staff bearer token is required")  # answered with a Bearer challenge
    container = connection.app.state.container
    staff = await authenticate_staff(token.strip(), uow=container.uow_factory(), now=container.clock().now())
    if staff is None:
        raise StaffUnauthenticated("Unknown, expired or revoked token")
    required: frozenset[Role] = frozenset(handler.opt.get("roles", ()))
    if not role_allows(staff.role, required):  # a route naming no role is the owner's: fail closed
        raise StaffForbidden(f"Role {staff.role.value} may not do this")
    connection.state.staff = staff
    actor_var.set(f"staff:{staff.id}")


def current_staff(connection: ASGIConnection[Any, Any, Any, Any]) -> StaffToken:
    staff: StaffToken = connection.state.staff
    return staff


def roles(*allowed: Role) -> dict[str, Any]:
    """Handler ``opt`` naming the roles allowed (the owner is always allowed; a route naming none is
    the owner's alone)."""
    return {"roles": allowed}
