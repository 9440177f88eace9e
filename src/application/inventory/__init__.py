"""Inventory use cases: receive, adjust, transfer, reserve, extend, commit, release, expire, reconcile."""
