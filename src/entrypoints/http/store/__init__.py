"""Storefront endpoints under ``/store``."""
