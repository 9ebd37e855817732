"""Results format versions and their migrations: every format this project has written reads again.

A results file carries ``benchsuite.format = "benchsuite-results/N"``. Reading checks it and brings older files up
to :data:`CURRENT` one step at a time, as asv does with its results versions (``asv/results.py``: a version number
in every file, an ``update_to_N`` function per step). A newer or unknown format is refused with one line naming the
file and its format.

Formats:

- 1 (written until issue 7): per-run figures in ``extra_info``; no timed segments, no run order; scenarios stored
  in the schema of their day (the earliest files have ``train.optimizer: adam`` and ``train.momentum``); the
  machine id named the CPU's marketing name (``cpu-amd-epyc-2c``) and hid its microarchitecture.
- 2: timed segments and step-time statistics per run, paired step-timing items (``kind: step_timing``), the
  session's run order, the microarchitecture and native bf16 in the machine id.
- 3: a profiled window per case (``kind: profile``: phases of a step, top operators, peak memory per phase, host
  syncs, the profiler's overhead), its trace in ``<run-id>/traces/`` beside the file; scenarios stored with their
  ``profile`` block. A format-2 file has no profile, which reads as none.

Optional keys, read when present and never a new format:

- ``benchsuite.incomplete``: true while a session runs (written before its first run and after every item), false
  once it ended normally; an interrupted or failed session leaves it true, and its file holds the items finished
  before it stopped. Files written before the mark have no such key and read as complete.
- a run's status ``failed`` (an error inside the run other than running out of memory, with ``error`` the error's
  first line), beside ``ok``, ``diverged``, ``oom``, ``crashed`` and ``timeout``; any status other than ``ok`` and
  ``diverged`` reads as a run that did not finish (:data:`benchsuite.analysis.contrast.FINISHED`).
- ``benchsuite.doctor``: a file written by ``benchsuite doctor`` keeps its checks there: ``device`` (text),
  ``checks`` (a list of :meth:`benchsuite.telemetry.checks.Check.as_dict` records: ``name`` and ``text`` text,
  ``status`` one of :data:`benchsuite.telemetry.checks.STATUSES`, ``details`` an object) and ``seconds`` (a number).

Every field the read side uses is checked before a file is migrated (:func:`check`), so that a bad value is refused
with one line naming the file, the field and the value, never a traceback from deep inside a report.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Callable
from typing import Any

PREFIX = "benchsuite-results/"
CURRENT = 3
"""The format this benchsuite writes (and migrates every older file to)."""


def label(version: int = CURRENT) -> str:
    """The format as a results file names it: ``benchsuite-results/3``."""
    return f"{PREFIX}{version}"


class ResultsError(ValueError):
    """A results file that cannot be used; the message is one line naming the file and what is wrong."""


def format_version(data: dict[str, Any], source: str) -> int:
    """The format number of a results file's data.

    Raises:
        ResultsError: no benchsuite block, or a format that is not ``benchsuite-results/<N>``.
    """
    block = data.get("benchsuite")
    if not isinstance(block, dict):
        raise ResultsError(f"{source}: not a benchsuite results file (no 'benchsuite' block)")
    written = block.get("format")
    if not isinstance(written, str) or not written.startswith(PREFIX) or not written[len(PREFIX) :].isdigit():
        raise ResultsError(f"{source}: unknown results format {written!r} (expected '{PREFIX}<N>')")
    return int(written[len(PREFIX) :])


def migrate(data: dict[str, Any], source: str, *, copy_data: bool = True) -> dict[str, Any]:
    """``data`` brought up to the current format (a copy, the input not changed; ``copy_data=False`` migrates in
    place, for data the caller owns, e.g. just parsed from a file).

    Raises:
        ResultsError: a format newer than this benchsuite reads, or unknown.
    """
    version = format_version(data, source)
    if version > CURRENT:
        raise ResultsError(
            f"{source}: results format {label(version)} is newer than this benchsuite reads "
            f"(up to {label()}); upgrade benchsuite"
        )
    if version < 1:
        raise ResultsError(f"{source}: unknown results format {label(version)}")
    check(data, source)
    if copy_data:
        data = copy.deepcopy(data)
    while version < CURRENT:
        version += 1
        try:
            data = MIGRATIONS[version](data)
        except (AttributeError, KeyError, TypeError, ValueError) as exc:  # a shape check() does not know
            raise ResultsError(f"{source}: cannot migrate to {label(version)}: {type(exc).__name__}: {exc}") from None
        data["benchsuite"]["format"] = label(version)
    return data


def update_to_2(data: dict[str, Any]) -> dict[str, Any]:
    """Format 1 → 2: runs get the step-time fields (the median from the mean; not unstable; no segments), the
    session its run order (case-major, as format-1 sessions ran), the machine its identity from the CPU record
    pytest-benchmark kept, and the stored scenarios today's spelling of their training options."""
    from benchsuite.telemetry.machine import identity_from_cpuinfo, machine_id

    block = data["benchsuite"]
    block.setdefault("run_order", {"mode": "case-major", "seed": None})
    for bench in data.get("benchmarks", []):
        info = bench.get("extra_info", {})
        if "case_id" in info and info.get("kind", "run") == "run":
            info.setdefault("step_time_s_median", info.get("step_time_s"))
            info.setdefault("unstable", False)
            info.setdefault("segments", [])
    machine = data.get("machine_info", {})
    hardware = machine.get("benchsuite")
    if isinstance(hardware, dict) and "cpu_microarchitecture" not in hardware:
        hardware.update(identity_from_cpuinfo(machine.get("cpu") or {}))
        if hardware["cpu_microarchitecture"] and hardware.get("gpu") is not None:  # else keep the id as written
            hardware["machine_id"] = block["machine_id"] = machine_id(hardware)
    for name, spec in list(block.get("scenarios", {}).items()):
        block["scenarios"][name] = _spec_to_2(spec)
    return data


def _spec_to_2(spec: Any) -> Any:
    """The earliest specs named the optimizer by a string with a separate SGD ``train.momentum``; today the
    optimizer is a spec of its own that holds its momentum."""
    train = spec.get("train") if isinstance(spec, dict) else None
    if not isinstance(train, dict) or "momentum" not in train:
        return spec
    train = dict(train)
    momentum = train.pop("momentum")
    optimizer = train.get("optimizer", "adam")
    optimizer = {"name": optimizer} if isinstance(optimizer, str) else dict(optimizer)
    if optimizer.get("name") == "sgd":
        optimizer.setdefault("momentum", momentum)
    train["optimizer"] = optimizer
    return {**spec, "train": train}


def update_to_3(data: dict[str, Any]) -> dict[str, Any]:
    """Format 2 → 3: nothing to rewrite. A format-2 session profiled nothing, so its file has no ``profile`` items
    and its stored scenarios no ``profile`` block (today's schema gives the default)."""
    return data


def _shown(value: Any) -> str:
    """``value`` as the file spells it (JSON), cut to 60 characters."""
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


_EXPECTED = {dict: "an object", list: "a list", str: "text", "number": "a number", "flag": "true or false"}


def _fits(value: Any, kind: Any) -> bool:
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "flag":
        return isinstance(value, bool) or value in (0, 1)
    return isinstance(value, kind)


def _need(value: Any, kind: Any, where: str, source: str, *, optional: bool = True) -> None:
    """Refuse ``value`` at ``where`` unless it is of ``kind`` (a type, ``"number"`` or ``"flag"``), or missing (null)
    when ``optional``.

    Raises:
        ResultsError: ``<file>: field '<where>' is <value>; expected <kind>``.
    """
    if value is None and optional or value is not None and _fits(value, kind):
        return
    expected = _EXPECTED[kind] + (" or null" if optional else "")
    raise ResultsError(f"{source}: field '{where}' is {_shown(value)}; expected {expected}")


def check(data: dict[str, Any], source: str) -> None:
    """Check the type of every field the read side uses (:mod:`benchsuite.results.frames`, the stored scenarios,
    the hardware record) in a results file's ``data`` of any format; missing optional fields are fine.

    Raises:
        ResultsError: the first bad value, in one line naming the file, the field and the value.
    """
    _check_blocks(data, source)
    for i, bench in enumerate(data["benchmarks"]):
        _need(bench, dict, f"benchmarks[{i}]", source, optional=False)
        _need(bench.get("extra_info"), dict, f"benchmarks[{i}].extra_info", source)
        _check_item(bench, f"benchmarks[{i}]", source)


def _check_blocks(data: dict[str, Any], source: str) -> None:
    """The file's top-level blocks: ``benchsuite`` (scenarios, run order, marks), ``machine_info``, ``commit_info``."""
    block = data["benchsuite"]
    _need(block.get("scenarios"), dict, "benchsuite.scenarios", source)
    for name, spec in (block.get("scenarios") or {}).items():
        _need(spec, dict, f"benchsuite.scenarios.{name}", source, optional=False)
    _need(block.get("scenario_errors"), list, "benchsuite.scenario_errors", source)
    _need(block.get("run_order"), dict, "benchsuite.run_order", source)
    _need((block.get("run_order") or {}).get("mode"), str, "benchsuite.run_order.mode", source)
    _need(block.get("incomplete"), "flag", "benchsuite.incomplete", source)
    for key in ("run_id", "machine_id"):
        _need(block.get(key), str, f"benchsuite.{key}", source)
    _check_doctor(block.get("doctor"), source)
    _need(data.get("machine_info"), dict, "machine_info", source)
    _need(data.get("commit_info"), dict, "commit_info", source)
    machine = data.get("machine_info") or {}
    _need(machine.get("benchsuite"), dict, "machine_info.benchsuite", source)
    _need(machine.get("cpu"), dict, "machine_info.cpu", source)
    gpu = (machine.get("benchsuite") or {}).get("gpu")
    _need(gpu, dict, "machine_info.benchsuite.gpu", source)
    for key in ("names", "memory_mib"):
        _need((gpu or {}).get(key), list, f"machine_info.benchsuite.gpu.{key}", source)


def _check_doctor(doctor: Any, source: str) -> None:
    """The ``benchsuite.doctor`` block of a file written by ``benchsuite doctor`` (absent in every other file).

    Raises:
        ResultsError: a field of the wrong type, or a check status outside
            :data:`benchsuite.telemetry.checks.STATUSES`.
    """
    from benchsuite.telemetry.checks import STATUSES

    _need(doctor, dict, "benchsuite.doctor", source)
    if doctor is None:
        return
    _need(doctor.get("device"), str, "benchsuite.doctor.device", source)
    _need(doctor.get("seconds"), "number", "benchsuite.doctor.seconds", source)
    _need(doctor.get("checks"), list, "benchsuite.doctor.checks", source)
    for i, check in enumerate(doctor.get("checks") or []):
        at = f"benchsuite.doctor.checks[{i}]"
        _need(check, dict, at, source, optional=False)
        for key in ("name", "status", "text"):
            _need(check.get(key), str, f"{at}.{key}", source, optional=False)
        _need(check.get("details"), dict, f"{at}.details", source)
        if check["status"] not in STATUSES:
            raise ResultsError(
                f"{source}: field '{at}.status' is {_shown(check['status'])}; expected one of {', '.join(STATUSES)}"
            )


def _check_item(bench: dict[str, Any], where: str, source: str) -> None:
    """One benchmark entry of benchsuite's (a run, a paired timing, a profile); others are left out unread."""
    from benchsuite.results import frames

    kind, info = frames.kind_of(bench), bench.get("extra_info") or {}
    at = f"{where}.extra_info"
    if kind is None:
        return
    for key in ("scenario", "case_id"):
        _need(info.get(key), str, f"{at}.{key}", source, optional=False)
    _need(info.get("axes"), dict, f"{at}.axes", source)
    if kind == "run":
        _check_run(bench, info, at, source)
    elif kind == "step_timing":
        _need(info.get("against_id"), str, f"{at}.against_id", source, optional=False)
        _points(info.get("blocks"), f"{at}.blocks", ("case_s", "case_steps", "against_s", "against_steps"), source)
    else:
        _need(info.get("status"), str, f"{at}.status", source, optional=False)
        _points(info.get("phases"), f"{at}.phases", ("ms", "share", "peak_mib"), source)
        _points(info.get("top_ops"), f"{at}.top_ops", ("calls_per_step", "self_cpu_ms", "gflop_per_step"), source)
        for key in ("step_ms", "unprofiled_step_ms", "profiler_overhead", "steps"):
            _need(info.get(key), "number", f"{at}.{key}", source)


@functools.cache
def _run_fields() -> tuple[tuple[str, Any], ...]:
    """(column, kind) of every column of the runs table (:mod:`benchsuite.results.frames` declares them)."""
    from benchsuite.results import frames  # not at import: the run side writes results without pandas

    def kind(column: str) -> Any:
        return str if column in frames.TEXT_COLUMNS else "flag" if column in frames.FLAG_COLUMNS else "number"

    return tuple((column, kind(column)) for column in frames.RUN_COLUMNS + frames.HARDWARE_COLUMNS)


def _check_run(bench: dict[str, Any], info: dict[str, Any], at: str, source: str) -> None:
    """A run: its status, seed, every column of the runs table, its curve and timeline, pytest-benchmark's stats."""
    _need(info.get("status"), str, f"{at}.status", source, optional=False)
    _need(info.get("seed"), "number", f"{at}.seed", source, optional=False)
    for column, kind in _run_fields():
        if (value := info.get(column)) is not None:
            _need(value, kind, f"{at}.{column}", source)
    _points(
        info.get("curve"), f"{at}.curve", ("step", "epoch", "timed_s", "train_loss", "val_loss", "val_accuracy"), source
    )
    _points(info.get("timeline"), f"{at}.timeline", ("t_s",), source)
    where = at.removesuffix(".extra_info")
    _need(bench.get("stats"), dict, f"{where}.stats", source, optional=False)
    _need(bench["stats"].get("median"), "number", f"{where}.stats.median", source)


def _points(points: Any, where: str, numbers: tuple[str, ...], source: str) -> None:
    """A list of objects (curve points, blocks, phases) whose ``numbers`` fields are numbers (or null)."""
    _need(points, list, where, source)
    for i, point in enumerate(points or []):
        if not isinstance(point, dict):
            _need(point, dict, f"{where}[{i}]", source, optional=False)
        for key in numbers:
            value = point.get(key)
            if value is not None and (type(value) not in (int, float)):  # bool is no number here
                _need(value, "number", f"{where}[{i}].{key}", source)


#: Migration to format N, by N.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {2: update_to_2, 3: update_to_3}
