"""The layers of the pipeline are enforced: the import-linter contracts of pyproject.toml hold for the package, and an
arrow back up (analysis importing training, training importing the report, a cycle inside a stage) breaks them."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

pytestmark = pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter is not installed (the test extra)")


def lint(tmp_path: Path, edits: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``lint-imports`` with the project's contracts on a copy of the package, with ``edits`` (module path → a line
    appended to it) made to the copy."""
    copy = tmp_path / "src"
    shutil.copytree(ROOT / "benchsuite", copy / "benchsuite", ignore=shutil.ignore_patterns("__pycache__"))
    for module, line in (edits or {}).items():
        with (copy / module).open("a", encoding="utf-8") as handle:
            handle.write(f"\n{line}\n")
    config = tmp_path / "pyproject.toml"
    shutil.copy(ROOT / "pyproject.toml", config)
    env = {"PYTHONPATH": str(copy), "PATH": str(LINT_IMPORTS.parent)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", str(config)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_package_keeps_every_contract(tmp_path):
    done = lint(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "5 kept, 0 broken" in done.stdout


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        ("benchsuite/analysis/cases.py", "from benchsuite.training import outcome", "Reading results never imports"),
        ("benchsuite/report/words.py", "import torch", "Reading results never imports"),
        ("benchsuite/training/loop.py", "from benchsuite.report import filters", "The run side never imports"),
        ("benchsuite/specs/names.py", "from benchsuite.scenario import matrix", "The run side is layered"),
        ("benchsuite/telemetry/clock.py", "from benchsuite.results import files", "The read side is layered"),
        ("benchsuite/specs/base.py", "from benchsuite.specs import workload", "No import cycles"),
    ],
)
def test_an_import_back_up_breaks_a_contract(tmp_path, module, line, broken):
    done = lint(tmp_path, {module: line})
    assert done.returncode == 1, done.stdout + done.stderr
    broken_part = done.stdout.split("Broken contracts", 1)[1]
    assert broken in " ".join(broken_part.split())
