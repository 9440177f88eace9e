"""Waiting in tests: for a condition or an event, within a generous bound, saying how long it took.

A busy 2-core CI box can stall any process for seconds, so a test never guesses how long something
takes (a fixed sleep, a tight timeout). It waits for the thing itself (a row, a log line, a request,
an exit) and the bound only ends a test that would otherwise hang; it is never what is tested.
Every wait prints how long it took, so a slow run shows where the time went (pytest shows the
output of a failing test, or of every test with ``-rA``).
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

GENEROUS = 120.0  # seconds; what normally takes a second may take a minute on a starved machine


def describe(check: Callable[..., object]) -> str:
    """A lambda's source, a function's name (``what`` says it better, when given)."""
    name = getattr(check, "__qualname__", "")
    if name and not name.endswith("<lambda>"):
        return f"{name.rsplit('.', 1)[-1]}()"
    try:
        source = " ".join(inspect.getsource(check).split())
    except (OSError, TypeError):
        return repr(check)
    source = source[source.find("lambda"):]
    while source.endswith(")") and source.count(")") > source.count("("):
        source = source[:-1]  # the closing parenthesis of the call around the lambda
    return source if len(source) <= 160 else source[:157] + "..."


def report(what: str, started: float) -> float:
    waited = time.monotonic() - started
    print(f"waited {waited:.2f}s for {what}", flush=True)
    return waited


async def eventually(
    check: Callable[[], object], timeout: float = GENEROUS, interval: float = 0.2, *, what: str | None = None
) -> object:
    """Poll ``check`` (sync or async) until it returns something truthy, and return that."""
    what = what or describe(check)
    started = time.monotonic()
    last: object = None
    while True:
        last = check()
        if inspect.isawaitable(last):
            last = await last
        if last:
            report(what, started)
            return last
        if time.monotonic() - started > timeout:
            break
        await asyncio.sleep(interval)  # a polling interval, not a guess: the bound is ``timeout``
    waited = report(f"{what} (in vain)", started)
    raise AssertionError(f"not met within {timeout:g}s (waited {waited:.1f}s): {what}; last value {last!r}")


def wait_until(
    check: Callable[[], T], timeout: float = GENEROUS, interval: float = 0.1, *, what: str | None = None
) -> T:
    """``eventually`` for synchronous code (fixtures, threads)."""
    what = what or describe(check)
    started = time.monotonic()
    while True:
        last = check()
        if last:
            report(what, started)
            return last
        if time.monotonic() - started > timeout:
            break
        time.sleep(interval)  # a polling interval, not a guess: the bound is ``timeout``
    waited = report(f"{what} (in vain)", started)
    raise AssertionError(f"not met within {timeout:g}s (waited {waited:.1f}s): {what}; last value {last!r}")


async def within(awaitable: Awaitable[T], timeout: float = GENEROUS, *, what: str) -> T:
    """Await ``awaitable``; if it is still pending after ``timeout`` (a hang), fail saying so."""
    started = time.monotonic()
    try:
        result = await asyncio.wait_for(awaitable, timeout)
    except TimeoutError:
        waited = report(f"{what} (in vain)", started)
        raise AssertionError(f"still waiting after {waited:.1f}s: {what}") from None
    report(what, started)
    return result
