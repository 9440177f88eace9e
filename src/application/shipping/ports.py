"""Where the merchant's shipping table is kept: zones, and the methods (rates per currency) of each."""

from __future__ import annotations

from typing import Protocol

from domain.shipping.rates import Method, Zone


class ShippingStore(Protocol):
    """The zones and methods staff keep (seeded with the table the shop started with). Checkout reads
    them through ``KeptShippingRates``, kept per catalog version, never on every request."""

    async def zones(self) -> list[Zone]:
        """Every zone, by id."""
        ...

    async def methods(self) -> list[Method]:
        """Every method, by id."""
        ...

    async def add_zone(self, zone: Zone) -> None:
        """Keep a new zone; ``ShippingZoneExists`` when its id is taken."""
        ...

    async def replace_zone(self, zone: Zone) -> None:
        """Replace the zone of that id; ``ShippingZoneNotFound`` when none is kept."""
        ...

    async def remove_zone(self, zone_id: str) -> None:
        """Forget a zone without methods; ``ShippingZoneNotFound``, or ``ShippingZoneInUse`` naming its methods."""
        ...

    async def add_method(self, method: Method) -> None:
        """Keep a new method; ``ShippingMethodExists`` when its id is taken, ``ShippingZoneNotFound`` when
        its zone is not kept."""
        ...

    async def replace_method(self, method: Method) -> None:
        """Replace the method of that id; ``ShippingMethodNotFound``, or ``ShippingZoneNotFound`` for its zone."""
        ...

    async def remove_method(self, method_id: str) -> None:
        """Forget a method; ``ShippingMethodNotFound`` when none is kept."""
        ...
