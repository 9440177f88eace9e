"""mutmut's command line as the gate runs it: ``python -m tests.mutation.mutmut_cli run ...``.

Two changes to plain ``mutmut``, both about which functions get mutants:

- **``@handler`` is a marker, not a wrapper.** mutmut leaves every decorated function alone, because a
  decorator may register or wrap the function and the copies mutmut makes of it would do so again. Our
  ``application.messaging.registry.handler`` only sets an attribute and returns the function, so the
  application's use cases are mutated like any function: the trampoline mutmut calls in the function's
  place keeps ``@handler`` (the bootstrap still finds exactly one handler per command), the copies it
  switches between (the original and each mutant) lose it.
- **Only the modules being measured are mutated** (``MUTATION_ONLY``, a ``:``-separated list of source
  files, set by the gate): the others are copied unchanged, which saves generating thousands of mutants
  nobody runs and the trampolines' cost in every test.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Sequence
from typing import Any

import libcst as cst
from mutmut import configuration
from mutmut.mutation import file_mutation

MARKERS = frozenset({"handler"})  # decorators that only mark a function and return it unchanged


def marked_only(node: cst.CSTNode) -> bool:
    """A function whose decorators are all plain markers (``@handler``)."""
    return (
        isinstance(node, cst.FunctionDef)
        and bool(node.decorators)
        and all(isinstance(d.decorator, cst.Name) and d.decorator.value in MARKERS for d in node.decorators)
    )


_skip = file_mutation.MutationVisitor._skip_node_and_children
_arrange = file_mutation.function_trampoline_arrangement


def _skip_node_and_children(self: file_mutation.MutationVisitor, node: cst.CSTNode) -> bool:
    # Judged as the undecorated function would be (a copy has no position: a pragma on its line is not seen).
    return _skip(self, node.with_changes(decorators=[]) if marked_only(node) else node)


def _function_trampoline_arrangement(
    function: cst.FunctionDef, mutants: Any, class_name: str | None
) -> tuple[Sequence[Any], Sequence[Any], Sequence[Any], Sequence[str]]:
    declarations, methods, assignments, names = _arrange(function, mutants, class_name)
    if marked_only(function):
        trampoline, *copies = methods
        methods = [trampoline, *(copy.with_changes(decorators=[]) for copy in copies)]  # type: ignore[attr-defined]
    return declarations, methods, assignments, names


def install() -> None:
    """Teach this process's mutmut that ``@handler`` functions are mutated like any other."""
    file_mutation.MutationVisitor._skip_node_and_children = _skip_node_and_children  # type: ignore[method-assign]
    file_mutation.function_trampoline_arrangement = _function_trampoline_arrangement


def main() -> None:
    install()
    only = [path for path in os.environ.get("MUTATION_ONLY", "").split(":") if path]
    if only:
        configuration._config = dataclasses.replace(configuration.config(), only_mutate=only)

    from mutmut.__main__ import cli

    sys.argv[0] = "mutmut"
    sys.exit(cli())


if __name__ == "__main__":
    main()
