"""Stripe adapters: PaymentIntents, refunds and signed webhooks through the official SDK."""
