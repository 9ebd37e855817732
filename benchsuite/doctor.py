"""``benchsuite doctor``: the check a person runs first on a new machine, in at most 5 minutes on one GPU.

1. **API checks** (:mod:`benchsuite.telemetry.gpu_checks`): the real CUDA and NVML calls that the tests' fakes stand
   in for: the device name and its MFU peak, the NVML handle (a MIG slice?), one sample of every metric, the energy
   counter rising over a busy second, the clock-event (throttle) reasons, the GPU's state (persistence mode, clocks,
   other processes). On a CPU the device check runs and the rest say why they do not apply.
2. **Step checks** (:mod:`benchsuite.profiling.checks`): host syncs per source line in a short run of each precision
   of the precision scenario (and, on CUDA, each loader of data-serving), and ``torch.compile`` with TF32.
3. **One seed** of the precision, data-serving and norm scenarios at this device's sizes (their CUDA sizes set
   ``train.min_timed_s``), as a ``pytest benchsuite --benchmark`` session with ``--seeds 1 --top-up-s 0``: it writes
   its results file and report as any session does, with the checks kept in the file (``benchsuite.doctor``).
4. **What looked wrong** (:func:`benchsuite.analysis.health.findings` and the report's notices): failed checks,
   runs that did not finish, dropped metrics, MFU outside 5-60 %, host syncs in the step, unstable runs, a coarse
   evaluation grid, throttling, other processes on the GPU or unlocked clocks; printed with the session's summary
   and shown in the report (:mod:`benchsuite.report.doctor`).

Exit status: 0 when nothing looked wrong, 1 when something did, 2 when a scenario or output could not be used,
4 when ``--device cuda`` has no CUDA device to run on.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

#: The scenarios the doctor runs one seed of, by name.
DOCTOR_SCENARIOS = ("precision", "data-serving", "norm")
#: The scenarios whose cases the host-sync check runs: every precision; on CUDA every loader too.
SYNC_SCENARIOS = {"cpu": ("precision",), "cuda": ("precision", "data-serving")}

EXIT_CLEAN, EXIT_FINDINGS, EXIT_UNUSABLE, EXIT_NO_CUDA = 0, 1, 2, 4


class DoctorBlock:
    """The pytest plugin that keeps the doctor's checks in the session's results file (``benchsuite.doctor``) and
    remembers which file the session wrote."""

    def __init__(self, block: dict[str, Any]) -> None:
        self.block = block
        self.results_file: Path | None = None

    @pytest.hookimpl(trylast=True)
    def pytest_benchmark_update_json(self, config: pytest.Config, benchmarks: Any, output_json: dict) -> None:
        output_json.setdefault("benchsuite", {})["doctor"] = self.block

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        lazy = config.pluginmanager.get_plugin("benchsuite-session")
        self.results_file = lazy.results_file() if lazy is not None else None


def doctor_scenarios(paths: list[Path]) -> tuple[dict[str, Any], list[str]]:
    """The doctor's scenarios (:data:`DOCTOR_SCENARIOS`) found under ``paths``: name → (file, spec), and one line per
    problem (a refused file among them, a scenario missing)."""
    from benchsuite.scenario.load import load_scenarios

    loaded = load_scenarios(paths)
    found = {spec.name: (path, spec) for path, spec in loaded.scenarios if spec.name in DOCTOR_SCENARIOS}
    problems = [str(error) for error in loaded.errors if any(name in str(error) for name in DOCTOR_SCENARIOS)]
    where = ", ".join(str(p) for p in paths)
    problems += [f"{where}: no scenario named '{name}'" for name in DOCTOR_SCENARIOS if name not in found]
    return found, problems


def run_checks(device: Any, scenarios: dict[str, Any], compile_backend: str = "inductor") -> list[dict[str, Any]]:
    """The API and step checks (steps 1 and 2 of the module docstring) on ``device``, as results-file records."""
    from benchsuite.profiling.checks import compile_check, step_sync_check
    from benchsuite.scenario.matrix import expand_runs
    from benchsuite.telemetry.gpu_checks import api_checks

    checks = list(api_checks(device))
    for name in SYNC_SCENARIOS["cuda" if device.type == "cuda" else "cpu"]:
        if name in scenarios:
            spec = scenarios[name][1]
            first = [run for run in expand_runs(spec, device.type) if run.seed == spec.seeds[0]]
            checks += [step_sync_check(run, device) for run in first]
    checks.append(compile_check(device, backend=compile_backend))
    return [check.as_dict() for check in checks]


def pytest_args(files: list[Path], device: str, results_dir: Path, reports_dir: Path, extra: list[str]) -> list[str]:
    """The ``pytest benchsuite --benchmark`` command line of step 3: one seed of each file, no top-ups."""
    import benchsuite

    items = str(Path(benchsuite.__file__).resolve().parent / "test_scenarios.py")
    args = [items, "--benchmark", "--device", device, "--seeds", "1", "--top-up-s", "0", "-p", "no:cacheprovider"]
    args += ["--results-dir", str(results_dir), "--reports-dir", str(reports_dir)]
    for path in files:
        args += ["--scenarios", str(path)]
    return args + list(extra)


def run_doctor(
    device_choice: str,
    scenario_paths: list[Path],
    results_dir: Path,
    reports_dir: Path,
    extra: list[str] = (),
    compile_backend: str = "inductor",
) -> int:
    """Steps 1-4 of the module docstring; returns the exit status (see the module docstring)."""
    from benchsuite.telemetry.clock import now
    from benchsuite.telemetry.hardware import cuda_unavailable_reason, resolve_device

    if device_choice == "cuda" and (reason := cuda_unavailable_reason()):
        print(f"benchsuite doctor: --device cuda: {reason}", file=sys.stderr)
        return EXIT_NO_CUDA
    scenarios, problems = doctor_scenarios(scenario_paths)
    for line in problems:
        print(f"benchsuite doctor: {line}", file=sys.stderr)
    if not scenarios:
        return EXIT_UNUSABLE
    device = resolve_device(device_choice)
    started = now()
    print(f"benchsuite doctor: checking the APIs and the step on {device} ...", flush=True)
    checks = run_checks(device, scenarios, compile_backend)
    block = {"device": str(device), "checks": checks, "seconds": round(now() - started, 3)}
    block["scenarios"] = sorted(scenarios)
    for check in checks:
        print(f"  {check['status']:<7} {check['name']}: {check['text']}", flush=True)
    plugin = DoctorBlock(block)
    files = [path for path, _ in scenarios.values()]
    status = pytest.main(pytest_args(files, device.type, results_dir, reports_dir, list(extra)), plugins=[plugin])
    return _verdict(plugin.results_file, status, problems)


def _verdict(results_file: Path | None, pytest_status: int, problems: list[str]) -> int:
    """The exit status from the results file's findings (and pytest's own status when no file was written)."""
    if results_file is None or not Path(results_file).exists():
        print(f"benchsuite doctor: no results file was written (pytest exit status {pytest_status})", file=sys.stderr)
        return EXIT_UNUSABLE
    from benchsuite.report.doctor import looked_wrong
    from benchsuite.results.files import read_results

    wrong = looked_wrong(read_results(Path(results_file))) + len(problems)
    said = "nothing" if not wrong else f"{wrong} thing{'s' if wrong != 1 else ''}"
    print(f"benchsuite doctor: {said} looked wrong; results: {results_file}")
    return EXIT_FINDINGS if wrong else EXIT_CLEAN
