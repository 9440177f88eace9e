"""How an error class is reported as a problem document (``entrypoints.http.problems`` maps them)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """How one error class is reported.

    ``title=None``: the error's message is the title and there is no detail (the form the framework's HTTP
    errors take, kept for the errors that replaced them in the controllers). ``detail=False``: the message
    stays in the logs."""

    status: int
    slug: str
    title: str | None
    detail: bool = True
