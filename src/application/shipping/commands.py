from __future__ import annotations

from dataclasses import dataclass

from application.messaging.registry import Command
from domain.shipping.rates import Method, Zone


@dataclass(frozen=True, slots=True, kw_only=True)
class ListShippingZones(Command[list[Zone]]):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateShippingZone(Command[Zone]):
    zone: Zone


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateShippingZone(Command[Zone]):
    """The zone of ``zone.id`` becomes ``zone`` (its methods stay; each must still fit inside it)."""

    zone: Zone


@dataclass(frozen=True, slots=True, kw_only=True)
class DeleteShippingZone(Command[None]):
    zone_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ListShippingMethods(Command[list[Method]]):
    zone_id: str | None = None
    currency: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateShippingMethod(Command[Method]):
    method: Method


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateShippingMethod(Command[Method]):
    method: Method


@dataclass(frozen=True, slots=True, kw_only=True)
class DeleteShippingMethod(Command[None]):
    method_id: str
