"""What route handlers ask for by parameter name (Litestar's ``Provide``): the application's bus, and the
upload limits the edge enforces while a body streams in."""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from application.catalog.media_commands import MediaLimits
from application.messaging.bus import MessageBus


def provide_bus(state: State) -> MessageBus:
    """The bus of the app's container (set at start-up by the lifespan)."""
    bus: MessageBus = state.container.bus()
    return bus


Bus = NamedDependency[MessageBus]
"""A route handler's ``bus: Bus`` parameter: the application's bus, injected by name."""

def provide_media_limits(state: State) -> MediaLimits:
    """How large an upload may be (checked against Content-Length, then while the body streams in)."""
    limits: MediaLimits = state.container.media_limits()
    return limits


Limits = NamedDependency[MediaLimits]
"""A route handler's ``media_limits: Limits`` parameter."""

DEPENDENCIES = {"bus": Provide(provide_bus, sync_to_thread=False),
                "media_limits": Provide(provide_media_limits, sync_to_thread=False)}
