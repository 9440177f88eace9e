"""`make mutation`: mutate modules with mutmut, score each module, fail under the floor.

    python -m tests.mutation.gate [--children N] [--min-score 90] [--report-only] [PATH ...]
    python -m tests.mutation.gate --changed-since [REV] [--budget-seconds S] [--children N]

PATH is a module or a package that ``[tool.mutmut] only_mutate`` in pyproject.toml names (src/domain and
the application packages that carry rules; default: src/domain). ``--changed-since`` measures instead the
modules changed since REV (default: the merge base with the branch's upstream when that is behind HEAD,
else HEAD~1, else, in a repository of one commit, every module), the working tree's edits included;
``--budget-seconds`` bounds the run: over it, a deterministic sample of their mutants runs, and the gate
says which part went unmeasured (it never passes a module it did not score). The gate

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
import signal
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EQUIVALENTS = ROOT / "tests" / "mutation" / "equivalents.toml"
MUTANTS = ROOT / "mutants"
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"  # git's empty tree: "since nothing"

# What a run costs, for --budget-seconds (measured with one child on a 2-core machine, docs/testing.md):
# a fixed part (copying and mutating the sources, mapping every unit test to the functions it reaches,
# the clean run of the selected modules' tests) and a part per mutant (killed ones stop at the first
# failing test, survivors run every test that reaches them).
OVERHEAD_SECONDS = 60.0
SECONDS_PER_MUTANT = 0.5

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


@functools.cache
def mutable_patterns() -> tuple[str, ...]:
    """``[tool.mutmut] only_mutate``: the source files the gate may measure."""
    settings = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
    return tuple(settings["only_mutate"])


def is_mutable(path: Path) -> bool:
    return path.suffix == ".py" and any(fnmatch.fnmatch(str(path), pattern) for pattern in mutable_patterns())


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
    outside = [f for f in files if not is_mutable(f)]
    if outside:
        raise SystemExit(
            f"mutation: {outside[0]} is not configured for mutation (pyproject.toml, [tool.mutmut] only_mutate: "
            f"{', '.join(mutable_patterns())})"
        )
    return sorted(files)


def globs_for(files: list[Path]) -> list[str]:
    """mutmut mutant-name patterns for the selected modules."""
    return [module_name(path) + ".*" for path in files]


def git(*args: str) -> str | None:
    """The output of a read-only git command, or ``None`` when it fails (no such revision, no git)."""
    try:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
    except OSError:
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def default_base() -> tuple[str, str]:
    """What "the latest change" is measured against, and how to say it."""
    head = git("rev-parse", "HEAD")
    upstream = git("rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{upstream}")
    if head and upstream:
        base = git("merge-base", "HEAD", upstream)
        if base and base != head:
            return base, f"the merge base with {upstream} ({base[:12]})"
    if git("rev-parse", "--verify", "--quiet", "HEAD~1^{commit}"):
        return "HEAD~1", "the previous commit (HEAD~1)"
    return EMPTY_TREE, "nothing: the repository has a single commit (or a shallow history), so every module counts"


def changed_files(base: str, scope: list[Path]) -> list[Path]:
    """The modules of ``scope`` that differ from ``base``: commits since, edits, new files."""
    changed = git("diff", "--name-only", "--no-renames", "--diff-filter=d", base, "--")
    if changed is None:
        raise SystemExit(f"mutation: git cannot compare the work tree with {base!r}")
    untracked = git("ls-files", "--others", "--exclude-standard") or ""
    names = {name for name in [*changed.splitlines(), *untracked.splitlines()] if name}
    return sorted(path for path in map(Path, names) if path in scope)


def mutants_of(path: Path) -> list[str]:
    """The names mutmut will give the mutants of ``path`` (generated here the way it generates them)."""
    from mutmut.mutation.file_mutation import mutate_file_contents

    from tests.mutation.mutmut_cli import install

    install()  # as the gate's mutmut does: @handler functions are mutated too
    prefix = module_name(path) + "."
    return [prefix + name for name in mutate_file_contents(str(path), (ROOT / path).read_text()).mutant_names]


def natural(name: str) -> tuple[str, int]:
    stem, _, number = name.rpartition("_")
    return (stem, int(number)) if number.isdigit() else (name, 0)


@dataclass
class Plan:
    """Which mutants a bounded run measures."""

    files: list[Path]  # the modules that have mutants at all
    names: list[str] | None  # None: every mutant of the files (module globs)
    total: int
    estimate: float
    note: str = ""
    counts: dict[str, int] = field(default_factory=dict)  # mutants per module


def plan_within(files: list[Path], budget: float | None, children: int, per_mutant: float) -> Plan:
    by_file = {path: sorted(names, key=natural) for path in files if (names := mutants_of(path))}
    files = list(by_file)
    every = [name for names in by_file.values() for name in names]
    estimate = OVERHEAD_SECONDS + len(every) * per_mutant / children
    if budget is None or estimate <= budget:
        return Plan(files=files, names=None, total=len(every), estimate=estimate)
    counts = {str(path): len(names) for path, names in by_file.items()}
    room = max(budget - OVERHEAD_SECONDS, 0.0)
    capacity = max(len(files), int(room * children / per_mutant))
    # Each module its share (one at least), evenly spaced through its mutants in name order: the same
    # change always measures the same sample, and every changed module is scored.
    sample = []
    for names in by_file.values():
        share = min(len(names), max(1, capacity * len(names) // len(every)))
        sample.extend(names[n * len(names) // share] for n in range(share))
    note = (
        f"BUDGET: the {len(every)} mutants of {len(files)} module(s) need about {estimate:.0f} s, over the "
        f"{budget:.0f} s budget: measuring a deterministic sample of {len(sample)} (about one in "
        f"{len(every) / len(sample):.1f}, evenly in name order). The other {len(every) - len(sample)} are NOT "
        f'measured; the full score: make mutation MODULE="{" ".join(map(str, files))}"'
    )
    estimate = OVERHEAD_SECONDS + len(sample) * per_mutant / children
    return Plan(files=files, names=sample, total=len(every), estimate=estimate, note=note, counts=counts)


def run_mutmut(files: list[Path], children: int, names: list[str] | None = None, limit: float | None = None) -> float:
    """Run mutmut on ``names`` (default: every mutant of ``files``); past ``limit`` seconds, stop it and fail."""
    MUTANTS.mkdir(exist_ok=True)
    (MUTANTS / "mutmut-stats.json").unlink(missing_ok=True)  # map tests to functions afresh
    for path in files:  # mutated afresh: mutmut would keep a copy it once left unmutated, and old results
        (MUTANTS / path).unlink(missing_ok=True)
        (MUTANTS / (str(path) + ".meta")).unlink(missing_ok=True)
    log = MUTANTS / "mutmut-run.log"
    targets = names if names is not None else globs_for(files)
    command = [sys.executable, "-m", "tests.mutation.mutmut_cli", "run", "--max-children", str(children), *targets]
    shown = " ".join(command[3:6] + (targets if len(targets) <= 8 else [*targets[:3], f"... ({len(targets)} in all)"]))
    print(f"mutation: mutmut {shown}  (output in {log.relative_to(ROOT)})", flush=True)
    environment = {**os.environ, "MUTATION_ONLY": ":".join(map(str, files))}
    started = time.monotonic()
    with log.open("w") as out:
        # A session of its own: a stop takes mutmut's fork server and workers with it.
        run = subprocess.Popen(
            command, cwd=ROOT, env=environment, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            code = run.wait(timeout=limit)
        except BaseException as stopped:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait()
            if not isinstance(stopped, subprocess.TimeoutExpired):
                raise
            raise SystemExit(
                f"mutation: FAILED: mutmut ran past {limit:.0f} s, three times the budget, and was stopped: "
                f"nothing is scored (see {log}; the estimate is far off: raise --seconds-per-mutant)"
            ) from None
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
    return [line for line in diff.splitlines() if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def score_modules(
    files: list[Path], equivalents: dict[str, Equivalent], rules: set[str], only: set[str] | None = None
) -> tuple[list[ModuleScore], list[str]]:
    """Score each module's mutants (``only``: just these, a sample), and list what is wrong besides."""
    scores: list[ModuleScore] = []
    problems: list[str] = []
    for path in files:
        meta = MUTANTS / (str(path) + ".meta")
        mutated = MUTANTS / path
        if not meta.exists() or not mutated.exists() or "_mutmut_mutated" not in mutated.read_text():
            problems.append(
                f"{path}: no results of the last run (it mutated other modules): make mutation MODULE={path}"
            )
            continue
        results: dict[str, int | None] = json.loads(meta.read_text())["exit_code_by_key"]
        if only is not None:
            prefix = module_name(path) + "."
            missing = sorted(name for name in only if name.startswith(prefix) and name not in results)
            if missing:
                problems.append(f"{path}: {len(missing)} sampled mutant(s) mutmut does not know, e.g. {missing[0]}")
            results = {name: code for name, code in results.items() if name in only}
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
    covered = {s.path for s in scores}  # a module without results says so above
    for name, entry in equivalents.items():
        if only is not None and name not in only:
            continue
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
        (
            "total",
            str(total.mutants),
            str(total.killed),
            str(len(total.equivalents)),
            str(len(total.survivors)),
            f"{total.score:.1f} %",
        )
    )
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def render(row: tuple[str, ...]) -> str:
        return "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )

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
    parser.add_argument(
        "paths",
        nargs="*",
        default=None,
        help="modules or packages (default: src/domain); with --changed-since, where to look",
    )
    parser.add_argument("--children", type=int, default=1, help="mutmut worker processes (default 1)")
    parser.add_argument("--min-score", type=float, default=90.0, help="per-module floor in percent (default 90)")
    parser.add_argument("--report-only", action="store_true", help="score the last run, do not run mutmut")
    parser.add_argument(
        "--changed-since",
        nargs="?",
        const="",
        default=None,
        metavar="REV",
        help="measure the modules changed since REV (no REV: merge base, else HEAD~1)",
    )
    parser.add_argument(
        "--budget-seconds",
        type=float,
        default=None,
        help="bound the run: over it, measure a deterministic sample of the mutants",
    )
    parser.add_argument(
        "--seconds-per-mutant",
        type=float,
        default=SECONDS_PER_MUTANT,
        help=f"the budget's estimate per mutant with one child (default {SECONDS_PER_MUTANT})",
    )
    args = parser.parse_args(argv)

    os.chdir(ROOT)
    files = selected_files(args.paths or ["src/domain"])
    if args.changed_since is not None:
        base, said = (args.changed_since, args.changed_since) if args.changed_since else default_base()
        scope = ", ".join(args.paths or ["src/domain"])
        files = changed_files(base, files)
        named = ", ".join(map(str, files[:12])) + (f" and {len(files) - 12} more" if len(files) > 12 else "")
        print(f"mutation: modules of {scope} changed since {said}: {named or 'none'}")
        if not files:
            print("PASSED: no module to measure changed")
            return 0

    budget = None if args.report_only else args.budget_seconds
    plan = plan_within(files, budget, args.children, args.seconds_per_mutant)
    empty = [str(path) for path in files if path not in plan.files]
    if empty:
        print(f"mutation: {len(empty)} module(s) without mutants (nothing there to mutate): {', '.join(empty)}")
    if not plan.files:
        print("PASSED: nothing to mutate")
        return 0
    if plan.note:
        print(plan.note, flush=True)
    files = plan.files
    elapsed = None
    if not args.report_only:
        limit = None if args.budget_seconds is None else 3 * args.budget_seconds
        elapsed = run_mutmut(files, args.children, plan.names, limit)
    only = set(plan.names) if plan.names is not None else None
    scores, problems = score_modules(files, *load_equivalents(), only=only)
    print_survivors(scores)
    print()
    print_table(scores, args.min_score)
    if elapsed is not None:
        mutants = sum(s.mutants for s in scores)
        print(
            f"\nmutmut ran {mutants} mutants in {elapsed:.0f} s with {args.children} child(ren)"
            f" (estimated {plan.estimate:.0f} s)"
        )
    if only is not None:
        measured = ", ".join(f"{s.path.removeprefix('src/')} {s.mutants} of {plan.counts[s.path]}" for s in scores)
        print(f"sampled (the budget): {measured}")
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
    sampled = f" (a sample of {len(only)} of {plan.total} mutants: the rest NOT measured)" if only is not None else ""
    print(f"PASSED: every module at or over {args.min_score:g} %, no survivor in a guard or a boundary{sampled}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
