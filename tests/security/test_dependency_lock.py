"""Dependencies are locked: `make install` and `make install-dev` install requirements/lock.txt and
requirements/lock-dev.txt with `--require-hashes`, then the project without its dependencies. A
dependency added to pyproject.toml without `make lock` would silently be missing from every install;
these tests say so first."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;\\]+)", re.MULTILINE)
HASH = re.compile(r"--hash=sha256:[0-9a-f]{64}")


def _pins(lock: str) -> dict[str, tuple[str, int]]:
    """Each pinned package of a lock file: its version and how many file hashes the lock allows."""
    text = (ROOT / "requirements" / lock).read_text()
    starts = list(PIN.finditer(text))
    pins = {}
    for match, following in zip(starts, [*starts[1:], None], strict=True):
        block = text[match.start() : following.start() if following else len(text)]
        pins[canonicalize_name(match["name"])] = (match["version"], len(HASH.findall(block)))
    return pins


def _wanted(*extras: str) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    listed = [*project["build-system"]["requires"], *project["project"]["dependencies"]]
    for extra in extras:
        listed += project["project"]["optional-dependencies"][extra]
    return [Requirement(line) for line in listed]


@pytest.mark.parametrize(("lock", "extras"), [("lock.txt", ("embedded",)), ("lock-dev.txt", ("embedded", "dev"))])
def test_every_dependency_in_pyproject_is_pinned_in_the_lock_at_a_version_it_allows(lock, extras) -> None:
    pins = _pins(lock)
    stale = []
    for requirement in _wanted(*extras):
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        pinned = pins.get(canonicalize_name(requirement.name))
        if pinned is None or not requirement.specifier.contains(pinned[0], prereleases=True):
            stale.append(f"{requirement} (locked: {pinned[0] if pinned else 'missing'})")
    assert not stale, f"requirements/{lock} is stale, run `make lock`: " + ", ".join(stale)


def test_every_pin_carries_hashes_and_the_dev_lock_keeps_the_runtime_pins() -> None:
    runtime, dev = _pins("lock.txt"), _pins("lock-dev.txt")
    assert all(hashes for _, hashes in [*runtime.values(), *dev.values()])
    assert {name: version for name, (version, _) in runtime.items()} == {
        name: dev[name][0] for name in runtime if name in dev
    }
    assert set(runtime) <= set(dev)
