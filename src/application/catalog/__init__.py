"""Catalog use cases."""
