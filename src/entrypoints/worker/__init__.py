"""The Dramatiq worker (consumers of the outbox) and the outbox relay process."""
