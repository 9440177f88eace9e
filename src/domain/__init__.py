"""The pure model: aggregates, value objects, domain events and errors (standard library only)."""
