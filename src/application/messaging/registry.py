"""Commands and their handlers: a command names its result type, a handler declares itself.

A use case is a function ``async def do_it(command: DoIt, *, uow: ..., clock: ...) -> Result``
marked ``@handler``; ``DoIt`` subclasses ``Command[Result]``. The bootstrap finds every marked
function and injects its keyword parameters by name, so adding a use case adds no wiring.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Generic, Protocol, TypeVar

R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)
F = TypeVar("F", bound=Callable[..., Awaitable[Any]])

HANDLER_MARK = "__emporium_handler__"


class Command(Generic[R_co]):
    """A request to the application; ``R_co`` is what its handler returns through the bus."""

    __slots__ = ()


class Dispatch(Protocol):
    """What a handler receives to run another context's command (the bus's ``handle``)."""

    async def __call__(self, command: Command[R], /) -> R: ...


def handler(fn: F) -> F:
    """Mark ``fn`` as the handler of the command its first parameter is annotated with."""
    setattr(fn, HANDLER_MARK, True)
    return fn


def is_handler(obj: object) -> bool:
    return callable(obj) and getattr(obj, HANDLER_MARK, False) is True
