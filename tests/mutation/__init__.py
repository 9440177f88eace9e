"""Mutation testing of the domain: `make mutation` (docs/testing.md)."""
