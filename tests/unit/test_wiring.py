"""The wiring: every command has exactly one handler, every handler is found, the bus's types are
honest, and the production container binds no fake."""

from __future__ import annotations

import functools
import importlib
import inspect
import pkgutil
import typing
from typing import Any

import pytest

import application
from application.bootstrap import WiringError, bind, command_of, handlers
from application.messaging.registry import Command, is_handler
from entrypoints.container import Container


def _modules() -> list[Any]:
    return [importlib.import_module(m.name) for m in pkgutil.walk_packages(application.__path__, "application.")]


def _commands() -> set[type]:
    return {
        obj for module in _modules() for obj in vars(module).values()
        if isinstance(obj, type) and issubclass(obj, Command) and obj is not Command
        and obj.__module__ == module.__name__
    }


def _result_type(command: type) -> Any:
    (base,) = (b for b in command.__orig_bases__ if typing.get_origin(b) is Command)  # type: ignore[attr-defined]
    (arg,) = typing.get_args(base)
    if isinstance(arg, typing.ForwardRef):
        return eval(arg.__forward_arg__, vars(importlib.import_module(command.__module__)))
    return arg


def test_every_command_has_exactly_one_handler() -> None:
    found = handlers()  # raises WiringError on a second handler for one command
    missing = sorted(c.__qualname__ for c in _commands() - set(found))
    assert missing == []
    assert len(found) == len(_commands())
    print(f"{len(found)} commands, one handler each")


def test_every_function_taking_a_command_is_a_registered_handler() -> None:
    unregistered = []
    for module in _modules():
        for fn in vars(module).values():
            if not inspect.iscoroutinefunction(fn) or fn.__module__ != module.__name__:
                continue
            try:
                command_of(fn)
            except (WiringError, NameError, StopIteration):
                continue
            if not is_handler(fn):
                unregistered.append(f"{module.__name__}.{fn.__name__}")
    assert unregistered == []


def test_each_handler_returns_what_its_command_promises() -> None:
    wrong = []
    for command, fn in handlers().items():
        returns = fn.__annotations__.get("return", "None")
        returned = eval(returns, fn.__globals__) if isinstance(returns, str) else returns
        if returned != _result_type(command) and not (returned is None and _result_type(command) is type(None)):
            wrong.append(f"{command.__name__}: Command[{_result_type(command)}] but handler returns {returned}")
    assert wrong == []


def test_a_handler_asking_for_what_nobody_provides_fails_at_start_up() -> None:
    found = handlers()
    with pytest.raises(WiringError, match=r"asks for '\w+', which nothing provides"):
        bind(found, {})


def test_the_production_container_binds_no_fake() -> None:
    bus = Container().bus()  # creating clients and engines opens no connection
    fakes = {
        f"{command.__name__}.{name}"
        for command in bus.command_types
        if isinstance(bound := bus.handler_for(command), functools.partial)
        for name, value in bound.keywords.items()
        if type(value).__module__.startswith("adapters.memory")
    }
    assert fakes == set()
    assert bus.command_types == frozenset(handlers())


def test_a_handler_behind_a_wrapping_decorator_is_wired_to_the_command_of_its_own_module() -> None:
    # The command's name resolves only in the handler's module, not in the module of the wrapper.
    module: dict[str, Any] = {"Command": Command}
    exec(  # a module of its own, built here
        "from __future__ import annotations\n"
        "class Ping(Command[None]):\n    pass\n"
        "async def ping(cmd: Ping) -> None:\n    return None\n",
        module,
    )

    @functools.wraps(module["ping"])
    async def traced(*args: Any, **kwargs: Any) -> None:
        return await module["ping"](*args, **kwargs)  # type: ignore[no-any-return]

    assert "Ping" not in globals()
    assert command_of(traced) is module["Ping"]
