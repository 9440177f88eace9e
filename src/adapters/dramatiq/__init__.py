"""Dramatiq: the broker that carries outbox messages to consumers."""
