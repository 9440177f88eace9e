"""Payment provider webhooks: ``POST /webhooks/{provider}``. Verified, deduplicated, applied once."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, post
from litestar.params import PathParameter

from application.payments.commands import HandlePaymentEvent
from application.payments.errors import UnknownWebhookProvider
from entrypoints.http.metrics import PAYMENT_FAILURES

Provider = Annotated[str, PathParameter(pattern=r"^[a-z]{1,20}$")]


class WebhookController(Controller):
    path = "/webhooks"
    tags = ["webhooks"]

    @post("/{provider:str}", operation_id="payment_webhook", status_code=200,
          summary="A provider's event; the signature is checked before anything else")
    async def receive(self, request: Request[Any, Any, Any], provider: Provider) -> dict[str, str]:
        container = request.app.state.container
        gateway = container.gateways().get(provider)
        if gateway is None:
            raise UnknownWebhookProvider(f"no payment provider {provider}")
        payload = await request.body()
        event = gateway.verify_webhook(payload, request.headers.get("stripe-signature"))
        outcome = await container.bus().handle(HandlePaymentEvent(provider=provider, event=event))
        if outcome == "failed":
            PAYMENT_FAILURES.labels(provider).inc()
        return {"event": event.id, "outcome": outcome}
