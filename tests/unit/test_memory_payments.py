"""The in-memory gateway's own webhook deliveries: charge and dispute events name their payment."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from adapters.memory.payments import MemoryPaymentGateway
from application.ports.payments import PaymentRequest, WebhookRejected


async def _payment(gateway: MemoryPaymentGateway) -> str:
    request = PaymentRequest(order_id="ord-9", amount=900, currency="EUR", idempotency_key=uuid.uuid4().hex)
    return (await gateway.create(request)).reference


@pytest.mark.parametrize("type", ["charge.refunded", "charge.dispute.created"])
async def test_charge_and_dispute_events_name_their_payment(type: str) -> None:
    gateway = MemoryPaymentGateway("whsec_unit")
    reference = await _payment(gateway)
    event = gateway.verify_webhook(*gateway.event_for(reference, type))
    assert (event.type, event.payment_reference, event.order_id, event.amount) == (type, reference, "ord-9", 900)
    assert event.data["payment_intent"] == reference


async def test_a_delivery_older_than_the_tolerance_is_rejected() -> None:
    gateway = MemoryPaymentGateway("whsec_unit", tolerance_seconds=300)
    reference = await _payment(gateway)
    stale = gateway.event_for(reference, "payment_intent.succeeded", at=datetime.now(UTC) - timedelta(minutes=10))
    with pytest.raises(WebhookRejected):
        gateway.verify_webhook(*stale)


async def test_a_delivery_signed_by_another_gateway_is_rejected() -> None:
    ours, theirs = MemoryPaymentGateway("whsec_ours"), MemoryPaymentGateway("whsec_theirs")
    reference = await _payment(theirs)
    with pytest.raises(WebhookRejected):
        ours.verify_webhook(*theirs.event_for(reference, "payment_intent.succeeded"))
