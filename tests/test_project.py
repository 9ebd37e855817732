"""Project wiring: the README's two set-up commands, .ci/run running the README's test command."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parents[1]


def readme_commands() -> list[str]:
    """The first two fenced shell blocks of the README."""
    return re.findall(r"```(?:bash|sh)\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)[:2]


def test_readme_opens_with_the_main_job_and_the_tests():
    main_job, tests = readme_commands()
    assert "pytest benchsuite --benchmark" in main_job and "-c constraints.txt" in main_job
    assert "-c constraints.txt" in tests and "pytest" in tests


LINT_STEPS = "ruff format --check . && ruff check . && lint-imports --no-cache"


def test_ci_runs_the_readme_test_command_after_the_lint_steps():
    _, tests = readme_commands()
    install, run_tests = tests.strip().rsplit(" && ", 1)
    assert f"{install} && {LINT_STEPS} && {run_tests}" in (ROOT / ".ci" / "run").read_text()


def test_tox_lint_runs_the_lint_steps_of_ci():
    lint = (ROOT / "tox.ini").read_text().split("[testenv:lint]", 1)[1].split("\n[", 1)[0]
    assert [line.strip() for line in lint.splitlines() if line.startswith("    ")] == LINT_STEPS.split(" && ")


def test_constraints_pin_the_cpu_torch_and_pyproject_keeps_a_range():
    assert "torch==2.13.0" in (ROOT / "constraints.txt").read_text()
    assert re.search(r'"torch>=[\d.]+,<\d+"', (ROOT / "pyproject.toml").read_text())


def test_floors_file_pins_every_floor_of_pyproject():
    dependencies = (ROOT / "pyproject.toml").read_text().split("dependencies = [", 1)[1].split("]", 1)[0]
    floors = dict(re.findall(r'"([A-Za-z0-9_.-]+)>=([\d.]+)', dependencies))
    pins = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", (ROOT / "constraints-floors.txt").read_text(), flags=re.M))
    assert set(floors) == set(pins)
    for name, floor in floors.items():
        if name != "torch":  # torch's floor is read from its API documentation (see constraints-floors.txt)
            assert pins[name].startswith(floor), (
                f"{name}: pyproject floor {floor}, constraints-floors pins {pins[name]}"
            )


def test_nothing_points_outside_the_repository():
    """Sources are cited by title, author, year and URL; a path to the project's private copies of the articles
    appears only where old results are migrated (report/references.py) and in the tests of that migration."""
    needle = "../" + "shared"
    allowed = {ROOT / "benchsuite" / "report" / "references.py", ROOT / "tests" / "test_report.py"}
    patterns = [
        "README.md",
        "*.toml",
        "*.ini",
        "*.txt",
        ".ci/*",
        ".github/**/*.y*ml",
        "scenarios/*",
        "benchsuite/**/*.py",
        "benchsuite/**/*.j2",
        "tests/*.py",
        "results/README.md",
        "reports/*.html",
    ]
    files = {p for pattern in patterns for p in ROOT.glob(pattern) if p.is_file()} - allowed
    assert len(files) > 50
    offenders = [str(p.relative_to(ROOT)) for p in sorted(files) if needle in p.read_text(errors="replace")]
    assert offenders == []
