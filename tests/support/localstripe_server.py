"""Run localstripe for the payment contract suite: ``python localstripe_server.py --port N --state DIR``.

Why a launcher instead of the ``localstripe`` command:
- the command binds ``::`` on every interface; tests bind 127.0.0.1 only;
- localstripe pickles its store to the fixed path ``/tmp/localstripe.pickle`` (shared by every run on
  the machine); here it goes to ``DIR/localstripe.pickle`` and nothing old is ever loaded;
- two Stripe behaviours our adapter relies on are missing from localstripe and are added in front of
  it, as Stripe documents them: an ``Idempotency-Key`` replays the first response (and a key reused
  with other parameters is an ``idempotency_error``), and a refund larger than what is left on the
  charge is refused with an ``invalid_request_error``.
"""

from __future__ import annotations

import argparse
import asyncio
import pickle
from pathlib import Path

from aiohttp import web
from localstripe import resources, server


def _persist_under(state: Path) -> None:
    path = state / "localstripe.pickle"

    def dump_to_disk(self: resources.Store) -> None:
        with path.open("wb") as f:
            pickle.dump(self, f, protocol=pickle.HIGHEST_PROTOCOL)

    def try_load_from_disk(self: resources.Store) -> None:
        return None  # every test session starts from scratch

    resources.Store.dump_to_disk = dump_to_disk  # type: ignore[method-assign]
    resources.Store.try_load_from_disk = try_load_from_disk  # type: ignore[method-assign]


def _stripe_error(status: int, message: str, code: str | None = None) -> web.Response:
    error: dict[str, str] = {"type": "invalid_request_error", "message": message}
    if code:
        error["code"] = code
    return web.json_response({"error": error}, status=status)


_REPLIES: dict[str, tuple[bytes, int, bytes, str]] = {}  # key -> request fingerprint, status, body, type
_IDEMPOTENCY_LOCK = asyncio.Lock()


@web.middleware
async def idempotency_replay(request: web.Request, handler):  # type: ignore[no-untyped-def]
    key = request.headers.get("Idempotency-Key")
    if request.method != "POST" or not key:
        return await handler(request)
    replies = _REPLIES
    async with _IDEMPOTENCY_LOCK:
        fingerprint = request.path.encode() + b"?" + await request.read()
        if key not in replies:
            response = await handler(request)
            if response.status >= 500 or not isinstance(response, web.Response):
                return response  # Stripe does not store server errors: the retry runs again
            replies[key] = (fingerprint, response.status, bytes(response.body or b""), response.content_type)
        first, status, body, content_type = replies[key]
    if first != fingerprint:
        message = (
            f"Keys for idempotent requests can only be used with the same parameters they were first used with ({key})"
        )
        return web.json_response({"error": {"type": "idempotency_error", "message": message}}, status=400)
    return web.Response(status=status, body=body, content_type=content_type, headers={"Idempotent-Replayed": "true"})


@web.middleware
async def refund_ceiling(request: web.Request, handler):  # type: ignore[no-untyped-def]
    if request.method == "POST" and request.path == "/v1/refunds":
        data = await server.get_post_data(request) or {}
        try:
            if data.get("payment_intent"):
                charge = resources.PaymentIntent._api_retrieve(data["payment_intent"]).latest_charge
            else:
                charge = resources.Charge._api_retrieve(data["charge"])
            left = charge.amount - charge.amount_refunded
        except Exception:  # unknown ids, unpaid intents: localstripe answers those itself
            return await handler(request)
        if left <= 0:
            return _stripe_error(400, f"Charge {charge.id} has already been refunded.", "charge_already_refunded")
        amount = int(data["amount"]) if str(data.get("amount", "")).isdigit() else left
        if amount > left:
            return _stripe_error(400, f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left})")
    return await handler(request)


def _accept_display_fields() -> None:
    """localstripe refuses PaymentIntent fields it has no use for (``description``, ``receipt_email``);
    Stripe accepts them. Drop them here rather than teach the adapter to omit real Stripe fields."""
    original = resources.PaymentIntent.__init__

    def init(self, *args, description=None, receipt_email=None, **kwargs):  # type: ignore[no-untyped-def]
        original(self, *args, **kwargs)

    resources.PaymentIntent.__init__ = init  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state", type=Path, required=True)
    args = parser.parse_args()
    _persist_under(args.state)
    _accept_display_fields()
    app = server.app
    # Outermost first: a replayed refund must not be re-checked against the ceiling it already used.
    app.middlewares.insert(0, refund_ceiling)
    app.middlewares.insert(0, idempotency_replay)
    web.run_app(app, host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
