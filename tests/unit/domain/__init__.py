"""Domain rules pinned on the aggregates and value objects themselves (see docs/testing.md)."""
