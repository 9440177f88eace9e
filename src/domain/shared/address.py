"""Postal addresses, shared by the address book, checkout and orders."""

from __future__ import annotations

from dataclasses import dataclass

from domain.shared.errors import InvalidInput


class InvalidAddress(InvalidInput):
    """The address breaks its country's rules; ``errors`` names each field and what is wrong."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("invalid address: " + ", ".join(f"{k} {v}" for k, v in sorted(errors.items())))
        self.errors = errors


@dataclass(frozen=True, slots=True, kw_only=True)
class Address:
    id: str = ""
    name: str
    line1: str
    line2: str = ""
    city: str
    postal_code: str
    country: str  # ISO 3166-1 alpha-2
    region: str = ""
    phone: str = ""
    company: str = ""
