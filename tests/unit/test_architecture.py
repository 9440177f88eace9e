"""The dependency rule is enforced by tools, and the tools do catch a violation."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_domain_imports_only_the_standard_library_and_itself() -> None:
    allowed = set(sys.stdlib_module_names) | {"domain", "__future__"}
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imports(path) - allowed)
        for path in (ROOT / "src" / "domain").rglob("*.py")
        if _imports(path) - allowed
    }
    assert offenders == {}


@pytest.mark.slow
def test_lint_imports_fails_when_the_domain_imports_sqlalchemy(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "src", tmp_path / "src")
    shutil.copy(ROOT / ".importlinter", tmp_path / ".importlinter")
    env = {"PYTHONPATH": str(tmp_path / "src"), "PATH": str(Path(sys.executable).parent)}
    clean = subprocess.run([str(LINT_IMPORTS)], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert clean.returncode == 0, clean.stdout

    money = tmp_path / "src" / "domain" / "shared" / "money.py"
    money.write_text("import sqlalchemy  # a violation\n" + money.read_text())
    broken = subprocess.run([str(LINT_IMPORTS)], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert broken.returncode != 0
    assert "domain.shared.money -> sqlalchemy" in broken.stdout
