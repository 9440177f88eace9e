"""How long an online payment may stay open."""

from __future__ import annotations

from datetime import timedelta

PAYMENT_HOLD = timedelta(minutes=30)  # how long stock stays held while an online payment is open
