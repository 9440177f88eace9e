"""A drop's waiting room for the storefront: ``/store/drops/{id}/queue``.

``POST`` takes the shopper's ticket (one per shopper and drop: posting again keeps the place; a shopper
without a session gets a guest cookie, which the cart then uses). ``GET`` answers where it stands —
``waiting`` (position once the drop opens, an estimated wait, ``Retry-After``), ``admitted`` (with the
admission token to send as ``Drop-Admission`` when adding the drop's SKUs to the cart and when starting
the payment) or ``sold_out``. Asking sooner than ``Retry-After`` is refused at once (429,
``entrypoints/http/pace.py``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import PathParameter

from application.drops.admission import holder_of
from application.drops.errors import AdmissionRequired
from application.drops.queue import JoinQueue, ReadQueue
from entrypoints.http.dependencies import Bus
from entrypoints.http.pace import ARRIVED, fingerprint_of, pace_cookie
from entrypoints.http.store.identity import guest_owner, shopper

DropId = Annotated[str, PathParameter(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
ADMISSION_HEADER = "drop-admission"


def admission_of(request: Request[Any, Any, Any]) -> str | None:
    """The admission token the storefront sends with a gated cart add or payment, if any."""
    return request.headers.get(ADMISSION_HEADER) or None


def _answer(request: Request[Any, Any, Any], view: dict[str, Any], cookies: list[Any]) -> Response[dict[str, Any]]:
    headers: dict[str, str] = {}
    if view["retry_after"]:
        headers["Retry-After"] = str(view["retry_after"])
        fingerprint = fingerprint_of(request, cookies)
        if fingerprint:  # asking again sooner is refused at the door (entrypoints/http/pace.py)
            settings = request.app.state.container.settings()
            cross_site = bool(settings.allowed_origins)
            cookies = [*cookies, pace_cookie(settings, view["drop_id"], view["retry_after"], fingerprint,
                                             secure=cross_site or settings.cookie_secure,
                                             same_site="none" if cross_site else "lax")]
    return Response(view, status_code=200, headers=headers, cookies=cookies)


class StoreDropController(Controller):
    path = "/store/drops"
    tags = ["store: drops"]

    @post("/{drop_id:str}/queue", operation_id="store_join_drop_queue", status_code=200,
          summary="Join the drop's waiting room (once per shopper; again: the same ticket)")
    async def join(self, bus: Bus, request: Request[Any, Any, Any], drop_id: DropId) -> Response[dict[str, Any]]:
        who = await shopper(request)
        owner = guest_owner(request, who)
        came = request.scope.get("state", {}).get(ARRIVED)  # the door's stamp (entrypoints/http/pace.py)
        view = await bus.handle(JoinQueue(drop_id=drop_id, holder=holder_of(owner), arrived_at=None if came is None
                                          else datetime.fromtimestamp(came, UTC)))
        return _answer(request, view, who.new_cookies)

    @get("/{drop_id:str}/queue", operation_id="store_read_drop_queue",
         summary="Where the shopper's ticket stands: waiting, admitted (with the admission token) or sold out")
    async def read(self, bus: Bus, request: Request[Any, Any, Any], drop_id: DropId) -> Response[dict[str, Any]]:
        who = await shopper(request)
        if who.owner is None:
            raise AdmissionRequired(drop_id, "no ticket for this shopper: join the drop's queue first")
        view = await bus.handle(ReadQueue(drop_id=drop_id, holder=holder_of(who.owner)))
        return _answer(request, view, who.new_cookies)
