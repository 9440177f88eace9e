from __future__ import annotations

from typing import Protocol

from domain.shared.address import Address


class AddressValidator(Protocol):
    def normalise(self, address: Address) -> Address:
        """The address in its country's canonical form, or ``InvalidAddress`` naming the fields."""
        ...
