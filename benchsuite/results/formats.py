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
"""

from __future__ import annotations

import copy
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


def migrate(data: dict[str, Any], source: str) -> dict[str, Any]:
    """``data`` brought up to the current format (a copy; the input is not changed).

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
    data = copy.deepcopy(data)
    while version < CURRENT:
        version += 1
        data = MIGRATIONS[version](data)
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


#: Migration to format N, by N.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {2: update_to_2, 3: update_to_3}
