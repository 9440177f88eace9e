"""The message bus: one handler per command type; events travel through the outbox instead."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from application.messaging.registry import Command

logger = logging.getLogger(__name__)

R = TypeVar("R")
CommandHandler = Callable[[Any], Awaitable[Any]]


class UnknownCommand(LookupError):
    pass


class MessageBus:
    """Dispatches a command to its single handler and returns what the handler returns, typed by
    the command (``handle(AddCartLine(...))`` is a ``CartView``).

    Unlike an in-process event bus, domain events are not dispatched here: the unit of
    work writes them to the outbox in the command's transaction and the relay delivers
    them to consumers after commit, so a crash can never lose or half-publish one.
    """

    def __init__(self, handlers: Mapping[type, CommandHandler]) -> None:
        self._handlers = dict(handlers)

    async def handle(self, command: Command[R]) -> R:
        try:
            handler = self._handlers[type(command)]
        except KeyError:
            raise UnknownCommand(type(command).__name__) from None
        logger.debug("handling %s", type(command).__name__)
        result: R = await handler(command)
        return result

    def handles(self, command_type: type) -> bool:
        return command_type in self._handlers

    def handler_for(self, command_type: type) -> CommandHandler:
        return self._handlers[command_type]

    @property
    def command_types(self) -> frozenset[type]:
        return frozenset(self._handlers)

    def register(self, handlers: Mapping[type, CommandHandler]) -> None:
        """Add handlers (the bootstrap binds handlers that dispatch through this bus)."""
        self._handlers.update(handlers)
