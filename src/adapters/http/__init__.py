"""Outbound HTTP adapters (httpx): CDN purges, webhooks."""
