"""Outbound webhooks: subscriptions, deliveries, signing and sending."""
