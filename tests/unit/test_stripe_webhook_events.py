"""Stripe webhook events reduce to a ``PaymentEvent`` naming the PaymentIntent, whatever object they carry."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid

import pytest

from adapters.stripe.payments import StripePaymentGateway
from application.ports.payments import WebhookRejected

SECRET = "whsec_unit"


def _signed(event: dict) -> tuple[bytes, str]:
    payload = json.dumps(event).encode()
    now = int(time.time())
    digest = hmac.new(SECRET.encode(), b"%d.%s" % (now, payload), hashlib.sha256).hexdigest()
    return payload, f"t={now},v1={digest}"


def _event(type: str, obj: dict) -> dict:
    return {
        "id": f"evt_{uuid.uuid4().hex[:14]}",
        "object": "event",
        "type": type,
        "created": int(time.time()),
        "data": {"object": obj},
    }


@pytest.fixture
def gateway() -> StripePaymentGateway:
    return StripePaymentGateway("sk_test_unit", SECRET, api_base="http://127.0.0.1:9")


@pytest.mark.parametrize(
    ("type", "obj"),
    [
        (
            "charge.refunded",
            {
                "id": "ch_1",
                "object": "charge",
                "amount": 900,
                "currency": "eur",
                "payment_intent": "pi_42",
                "metadata": {"order_id": "ord-1"},
            },
        ),
        (
            "charge.dispute.created",
            {
                "id": "dp_1",
                "object": "dispute",
                "amount": 900,
                "currency": "eur",
                "payment_intent": "pi_42",
                "charge": "ch_1",
                "metadata": {},
            },
        ),
    ],
)
def test_charge_and_dispute_events_name_their_payment_intent(gateway, type, obj) -> None:
    event = gateway.verify_webhook(*_signed(_event(type, obj)))
    assert (event.type, event.payment_reference, event.amount, event.currency) == (type, "pi_42", 900, "EUR")
    assert event.data["id"] == obj["id"]


def test_a_payment_intent_event_carries_the_order_from_metadata(gateway) -> None:
    obj = {
        "id": "pi_7",
        "object": "payment_intent",
        "amount": 1500,
        "currency": "usd",
        "status": "succeeded",
        "metadata": {"order_id": "ord-7"},
    }
    event = gateway.verify_webhook(*_signed(_event("payment_intent.succeeded", obj)))
    assert (event.payment_reference, event.order_id, event.currency) == ("pi_7", "ord-7", "USD")


def test_a_body_signed_with_another_secret_is_rejected(gateway) -> None:
    payload, _ = _signed(_event("payment_intent.succeeded", {"id": "pi_1", "object": "payment_intent"}))
    now = int(time.time())
    forged = hmac.new(b"whsec_other", b"%d.%s" % (now, payload), hashlib.sha256).hexdigest()
    with pytest.raises(WebhookRejected):
        gateway.verify_webhook(payload, f"t={now},v1={forged}")


def test_a_signed_body_that_is_not_json_is_rejected(gateway) -> None:
    payload = b"not json"
    now = int(time.time())
    digest = hmac.new(SECRET.encode(), b"%d.%s" % (now, payload), hashlib.sha256).hexdigest()
    with pytest.raises(WebhookRejected):
        gateway.verify_webhook(payload, f"t={now},v1={digest}")
