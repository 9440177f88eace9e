"""Delivery: the HTTP app, the Dramatiq worker, the CLI and the composition root."""
