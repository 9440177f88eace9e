"""What route handlers ask for by parameter name (Litestar's ``Provide``): the application's bus."""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from application.messaging.bus import MessageBus


def provide_bus(state: State) -> MessageBus:
    """The bus of the app's container (set at start-up by the lifespan)."""
    bus: MessageBus = state.container.bus()
    return bus


Bus = NamedDependency[MessageBus]
"""A route handler's ``bus: Bus`` parameter: the application's bus, injected by name."""

DEPENDENCIES = {"bus": Provide(provide_bus, sync_to_thread=False)}
