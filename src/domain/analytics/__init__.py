"""Storefront behaviour events and the rules a tracked batch must keep."""
