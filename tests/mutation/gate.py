"""`make mutation`: mutate domain modules with mutmut, score each module, fail under the floor.

    python -m tests.mutation.gate [--children N] [--min-score 90] [--report-only] [PATH ...]

PATH is a module or a package under src/ (default: src/domain). The gate

1. forgets mutmut's map of which test reaches which function (a test edited since the last run
   could otherwise keep a stale entry), and runs `mutmut run` on every mutant of the selected
   modules, each against only the unit tests that reach it (configured in pyproject.toml);
2. reads mutmut's results and prints, per module, mutants, killed, accepted equivalents, survivors
   and the score: killed / (mutants - equivalents), then every survivor with its diff;
3. exits 1 when a module scores under the floor, when any survivor sits in a guard or a boundary
   (an ``if``/``elif``/``while`` condition or a comparison: those must never go unpinned, whatever the
   score), or when an entry of equivalents.toml no longer matches its mutant (the code moved: look
   at it again).

A timeout counts as killed (the mutant made a test hang: the suite noticed). Accepted equivalents live
in tests/mutation/equivalents.toml, each with the mutated line, so that an entry cannot silently come
to cover another mutant after the code changes, and a one-line reason. One rule there covers a whole
class: `message-wording`, a mutant that only wraps an error message in "XX" or changes its letter case
inside a `raise` statement (the `None` message mutants are not covered: a refusal must say why).
"""

from __future__ import annotations

import argparse
import ast
import fnmatch
import functools
import json
import os
import re
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EQUIVALENTS = ROOT / "tests" / "mutation" / "equivalents.toml"
MUTANTS = ROOT / "mutants"

KILLED = {1, 3, 36, 37, 24, -24, 152, 255}  # failed test, pytest error, timeouts, caught by type check
SURVIVED = {0}
NO_TESTS = {5, 33}
STATUS = {0: "survived", 5: "no tests", 33: "no tests", 34: "skipped", 35: "suspicious", None: "not checked"}


@dataclass
class Equivalent:
    mutant: str
    line: str
    reason: str


_COMPARISON = re.compile(r"\s(<|<=|>|>=|==|!=)\s")


def is_guard_or_boundary(diff: list[str]) -> bool:
    """The mutated line is a condition (if/elif/while) or holds a comparison."""
    return any(
        line[1:].strip().startswith(("if ", "elif ", "while ")) or _COMPARISON.search(line[1:])
        for line in diff
        if line.startswith("-")
    )


@dataclass
class ModuleScore:
    path: str
    mutants: int = 0
    killed: int = 0
    equivalents: list[str] = field(default_factory=list)
    survivors: list[tuple[str, str]] = field(default_factory=list)  # (mutant, status)

    def guards(self) -> list[str]:
        """Survivors in a guard or a boundary."""
        return [mutant for mutant, _ in self.survivors if is_guard_or_boundary(diff_of(mutant, Path(self.path)))]

    @property
    def counted(self) -> int:
        return self.mutants - len(self.equivalents)

    @property
    def score(self) -> float:
        return 100.0 if self.counted == 0 else 100.0 * self.killed / self.counted


def module_name(path: Path) -> str:
    """src/domain/shared/money.py -> domain.shared.money (mutmut's naming)."""
    dotted = str(path.with_suffix("")).replace(os.sep, ".")
    dotted = dotted.removeprefix("src.")
    return dotted.removesuffix(".__init__")


def selected_files(paths: list[str]) -> list[Path]:
    files: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.update(p.relative_to(ROOT) if p.is_absolute() else p for p in path.rglob("*.py"))
        elif path.suffix == ".py" and path.exists():
            files.add(path)
        else:
            raise SystemExit(f"mutation: {raw} is neither a module nor a package")
    outside = [f for f in files if not fnmatch.fnmatch(str(f), "src/domain/*")]
    if outside:
        raise SystemExit(f"mutation: only src/domain is configured for mutation, not {outside[0]}")
    return sorted(files)


def globs_for(paths: list[str]) -> list[str]:
    """mutmut mutant-name patterns for the selected paths."""
    patterns = []
    for raw in paths:
        path = Path(raw)
        name = module_name(path) if path.suffix == ".py" else str(path).rstrip("/").replace(os.sep, ".")
        patterns.append(name.removeprefix("src.") + ".*")
    return patterns


def run_mutmut(paths: list[str], children: int) -> float:
    MUTANTS.mkdir(exist_ok=True)
    (MUTANTS / "mutmut-stats.json").unlink(missing_ok=True)  # map tests to functions afresh
    log = MUTANTS / "mutmut-run.log"
    command = [str(Path(sys.executable).parent / "mutmut"), "run", "--max-children", str(children), *globs_for(paths)]
    print(f"mutation: {' '.join(command[1:])}  (output in {log.relative_to(ROOT)})", flush=True)
    started = time.monotonic()
    with log.open("w") as out:
        code = subprocess.run(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, check=False).returncode
    elapsed = time.monotonic() - started
    if code != 0:
        tail = log.read_text(errors="replace").splitlines()[-40:]
        print("\n".join(tail))
        raise SystemExit(f"mutation: mutmut exited {code} after {elapsed:.0f} s (see {log})")
    return elapsed


def load_equivalents() -> tuple[dict[str, Equivalent], set[str]]:
    if not EQUIVALENTS.exists():
        return {}, set()
    data = tomllib.loads(EQUIVALENTS.read_text())
    rules = {rule["name"] for rule in data.get("rule", []) if rule.get("reason", "").strip()}
    unknown = rules - {"message-wording"}
    if unknown:
        raise SystemExit(f"mutation: unknown rule(s) in {EQUIVALENTS.name}: {sorted(unknown)}")
    entries = {}
    for raw in data.get("equivalent", []):
        entry = Equivalent(mutant=raw["mutant"], line=raw["line"].strip(), reason=raw["reason"].strip())
        if not entry.reason:
            raise SystemExit(f"mutation: {entry.mutant} in {EQUIVALENTS.name} gives no reason")
        entries[entry.mutant] = entry
    return entries, rules


_RAISE_LINES: dict[Path, dict[str, bool]] = {}


def in_raise(path: Path, line: str) -> bool:
    """Whether every occurrence of ``line`` in the module lies inside a ``raise`` statement."""
    if path not in _RAISE_LINES:
        source = path.read_text()
        spans = [
            (node.lineno, node.end_lineno or node.lineno)
            for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Raise)
        ]
        by_text: dict[str, bool] = {}
        for number, text in enumerate(source.splitlines(), start=1):
            inside = any(start <= number <= end for start, end in spans)
            by_text[text.strip()] = by_text.get(text.strip(), True) and inside
        _RAISE_LINES[path] = by_text
    return _RAISE_LINES[path].get(line.strip(), False)


def is_message_wording(diff: list[str], path: Path) -> bool:
    """The mutant wraps a string of a raise statement in XX or changes its case, and nothing else."""
    minus = [line[1:] for line in diff if line.startswith("-")]
    plus = [line[1:] for line in diff if line.startswith("+")]
    if len(minus) != 1 or len(plus) != 1 or minus[0] == plus[0]:
        return False
    same_words = plus[0].replace("XX", "").lower() == minus[0].lower()
    return same_words and in_raise(path, minus[0])


@functools.cache
def diff_of(mutant: str, path: Path) -> list[str]:
    """The changed lines of a mutant (`-` original, `+` mutated), as `mutmut show` prints them."""
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    cwd = Path.cwd()
    os.chdir(ROOT)
    try:
        diff = get_diff_for_mutant(mutant, path=path)
    finally:
        os.chdir(cwd)
    return [
        line
        for line in diff.splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]


def score_modules(
    files: list[Path], equivalents: dict[str, Equivalent], rules: set[str]
) -> tuple[list[ModuleScore], list[str]]:
    scores: list[ModuleScore] = []
    problems: list[str] = []
    for path in files:
        meta = MUTANTS / (str(path) + ".meta")
        if not meta.exists():
            problems.append(f"{path}: no mutmut results (was it run?)")
            continue
        results: dict[str, int | None] = json.loads(meta.read_text())["exit_code_by_key"]
        if not results:
            continue
        module = ModuleScore(path=str(path), mutants=len(results))
        for mutant, code in sorted(results.items()):
            equivalent = equivalents.get(mutant)
            if code in KILLED:
                module.killed += 1
                if equivalent:
                    problems.append(f"{mutant} is listed as equivalent but a test kills it: drop the entry")
            elif equivalent and code in SURVIVED:
                changed = [line[1:].strip() for line in diff_of(mutant, path) if line.startswith("+")]
                if equivalent.line.removeprefix("+").strip() not in changed:
                    problems.append(
                        f"{mutant}: equivalents.toml says the mutated line is {equivalent.line!r}, "
                        f"it is now {changed!r}: the code moved, judge this mutant again"
                    )
                    module.survivors.append((mutant, "survived (stale equivalent)"))
                else:
                    module.equivalents.append(mutant)
            elif code in SURVIVED and "message-wording" in rules and is_message_wording(diff_of(mutant, path), path):
                module.equivalents.append(mutant)
            else:
                module.survivors.append((mutant, STATUS.get(code, f"exit {code}")))
        scores.append(module)
    known = {m for s in scores for m in (*s.equivalents, *(x for x, _ in s.survivors))}
    covered = {str(f) for f in files}
    for name, entry in equivalents.items():
        if name not in known and any(name.startswith(module_name(Path(f)) + ".") for f in covered):
            killed_or_gone = "killed" if any(name in s.path for s in scores) else "gone"
            problems.append(f"{entry.mutant} in equivalents.toml is no longer a surviving mutant ({killed_or_gone})")
    return scores, problems


def print_table(scores: list[ModuleScore], floor: float) -> None:
    header = ("module", "mutants", "killed", "equivalent", "survived", "score")
    rows = [
        (
            s.path.removeprefix("src/"),
            str(s.mutants),
            str(s.killed),
            str(len(s.equivalents)),
            str(len(s.survivors)),
            f"{s.score:.1f} %" + ("" if s.score >= floor else "  < floor"),
        )
        for s in scores
    ]
    total = ModuleScore(path="total", mutants=sum(s.mutants for s in scores), killed=sum(s.killed for s in scores))
    total.equivalents = [m for s in scores for m in s.equivalents]
    total.survivors = [m for s in scores for m in s.survivors]
    rows.append(
        ("total", str(total.mutants), str(total.killed), str(len(total.equivalents)), str(len(total.survivors)),
         f"{total.score:.1f} %")
    )
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    def render(row: tuple[str, ...]) -> str:
        return "  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths,
                                                                                                       strict=True)))

    print(render(header))
    for row in rows:
        print(render(row))


def print_survivors(scores: list[ModuleScore]) -> None:
    for s in scores:
        guards = set(s.guards())
        for mutant, status in s.survivors:
            print(f"\n{mutant}: {status}" + ("  [guard or boundary]" if mutant in guards else ""))
            for changed in diff_of(mutant, Path(s.path)):
                print(f"    {changed}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="*", default=["src/domain"])
    parser.add_argument("--children", type=int, default=1, help="mutmut worker processes (default 1)")
    parser.add_argument("--min-score", type=float, default=90.0, help="per-module floor in percent (default 90)")
    parser.add_argument("--report-only", action="store_true", help="score the last run, do not run mutmut")
    args = parser.parse_args(argv)

    os.chdir(ROOT)
    files = selected_files(args.paths)
    elapsed = None if args.report_only else run_mutmut(args.paths, args.children)
    scores, problems = score_modules(files, *load_equivalents())
    print_survivors(scores)
    print()
    print_table(scores, args.min_score)
    if elapsed is not None:
        mutants = sum(s.mutants for s in scores)
        print(f"\nmutmut ran {mutants} mutants in {elapsed:.0f} s with {args.children} child(ren)")
    below = [s for s in scores if s.score < args.min_score]
    guards = [mutant for s in scores for mutant in s.guards()]
    for problem in problems:
        print(f"PROBLEM: {problem}")
    if below:
        names = ", ".join(s.path.removeprefix("src/") for s in below)
        print(f"FAILED: {len(below)} module(s) under {args.min_score:g} %: {names}")
    if guards:
        print(f"FAILED: {len(guards)} survivor(s) in a guard or a boundary: {', '.join(guards)}")
    if below or guards or problems:
        return 1
    print(f"PASSED: every module at or over {args.min_score:g} %, no survivor in a guard or a boundary")
    return 0


if __name__ == "__main__":
    sys.exit(main())
