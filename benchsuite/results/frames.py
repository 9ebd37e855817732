"""Results JSON → tidy pandas DataFrames. The only place where JSON becomes pandas.

Tables:
- runs: one row per run (case × seed) with every per-run figure from ``extra_info``; pytest-benchmark's own
  figure (the timed training region) is the ``benchmark_s`` column.
- curves: one row per evaluation of every run.
- blocks: one row per pair of paired step-timing blocks.
- profiles: a case's profiled window as recorded (:func:`profiles`), and its phases one row each (:func:`phases_frame`).

Benchmark entries that are none of benchsuite's items (no ``extra_info``, an empty one, or one without a case id or a
known ``kind``) are left out of every table and counted (:func:`left_out`), so a report can say so.

Results files of older formats reach this module already migrated and checked field by field
(:func:`benchsuite.results.files.read_results`, :func:`benchsuite.results.formats.check`): the tables trust the types
of the fields they read.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from benchsuite.results.stored import StoredScenario, stored_scenario
from benchsuite.telemetry.metrics import COLUMNS

RUN_COLUMNS = [
    "scenario",
    "case_id",
    "seed",
    "is_baseline",
    "status",
    "device",
    "steps",
    "budget_steps",
    "epochs",
    "samples",
    "batch_size",
    "benchmark_s",
    "timed_s",
    "warmup_s",
    "eval_s",
    "setup_s",
    "compile_s",
    "pretrain_s",
    "pretrain_steps",
    "stop_reason",
    "stop_step",
    "step_time_s",
    "step_time_s_median",
    "step_time_s_p25",
    "step_time_s_p75",
    "step_time_cv",
    "unstable",
    "order_index",
    "case_index",
    "world_size",
    "error",
    "throughput_samples_per_s",
    "reached_target",
    "time_to_target_s",
    "steps_to_target",
    "epochs_to_target",
    "final_val_metric",
    "final_val_accuracy",
    "final_val_loss",
    "val_metric_epoch1",
    "target_metric",
    "target_value",
    "num_params",
    "fault_step",
    "fault_stage",
    "effective_lr",
    "precision",
]

#: Columns of :data:`RUN_COLUMNS` that hold text; ``FLAG_COLUMNS`` hold true or false; every other run column and
#: every :data:`HARDWARE_COLUMNS` one holds a number (any of them may be null). The checks of
#: :func:`benchsuite.results.formats.check` read these lists.
TEXT_COLUMNS = [
    "scenario",
    "case_id",
    "status",
    "device",
    "error",
    "target_metric",
    "fault_stage",
    "precision",
    "stop_reason",
]
FLAG_COLUMNS = ["is_baseline", "unstable", "reached_target"]

#: Telemetry and utilisation columns (absent ones, e.g. GPU metrics on a CPU run, stay empty).
HARDWARE_COLUMNS = COLUMNS

#: The kinds of benchmark entry benchsuite writes (``extra_info["kind"]``; a run's may be left out).
KINDS = ("run", "step_timing", "profile")


def kind_of(bench: dict[str, Any]) -> str | None:
    """The kind of a benchmark entry (:data:`KINDS`), or None for one that is not benchsuite's (no ``extra_info``, an
    empty one, a run without a case id, an unknown kind)."""
    info = bench.get("extra_info") or {}
    kind = info.get("kind", "run")
    if kind == "run":
        return "run" if "case_id" in info else None
    return kind if kind in KINDS else None


def left_out(data: dict[str, Any]) -> int:
    """How many benchmark entries are not benchsuite's items (:func:`kind_of`) and were left out of every table."""
    return sum(kind_of(bench) is None for bench in data["benchmarks"])


def incomplete(data: dict[str, Any]) -> bool:
    """Whether the session that wrote the file did not finish (``benchsuite.incomplete``; files that predate the mark
    read as complete)."""
    return bool(data.get("benchsuite", {}).get("incomplete", False))


def run_count(data: dict[str, Any]) -> int:
    """How many runs the file holds (benchmark entries of kind ``run``)."""
    return sum(kind_of(bench) == "run" for bench in data["benchmarks"])


BLOCK_COLUMNS = [
    "scenario",
    "case_id",
    "against_id",
    "block",
    "first",
    "case_s",
    "case_steps",
    "against_s",
    "against_steps",
]


def runs_frame(data: dict[str, Any]) -> pd.DataFrame:
    """One row per benchmarked run; axis values as ``axis_<name>`` columns."""
    rows = []
    for bench in data["benchmarks"]:
        if kind_of(bench) != "run":
            continue  # a paired timing, a profile, or a benchmark that is not a benchsuite run (counted: left_out)
        info = bench["extra_info"]
        row = {k: info.get(k) for k in RUN_COLUMNS + HARDWARE_COLUMNS}
        row["benchmark_s"] = (bench.get("stats") or {}).get("median")
        row["unstable"] = bool(row["unstable"])
        row["world_size"] = row["world_size"] or 1  # runs before data parallelism trained on one process
        row.update({f"axis_{axis}": value for axis, value in (info.get("axes") or {}).items()})
        rows.append(row)
    frame = pd.DataFrame(rows, columns=RUN_COLUMNS + HARDWARE_COLUMNS if not rows else None)
    numeric = {
        c: "float64"
        for c in [
            "time_to_target_s",
            "steps_to_target",
            "step_time_s_median",
            "step_time_s_p25",
            "step_time_s_p75",
            "step_time_cv",
            "timed_s",
            "final_val_metric",
            "val_metric_epoch1",
            "throughput_samples_per_s",
            *HARDWARE_COLUMNS,
        ]
    }
    return _matrix_order(frame.astype(numeric)) if rows else frame


def _matrix_order(frame: pd.DataFrame) -> pd.DataFrame:
    """Runs in matrix order (scenarios as they ran, then each case's place in its matrix, then seed), whatever order
    the session ran them in; files that did not record a case's place keep their order (they ran case-major)."""
    if frame["case_index"].isna().any():
        return frame
    scenario_rank = {name: i for i, name in enumerate(dict.fromkeys(frame["scenario"]))}
    keys = frame.assign(_s=frame["scenario"].map(scenario_rank))
    return frame.loc[keys.sort_values(["_s", "case_index", "seed"], kind="stable").index].reset_index(drop=True)


def blocks_frame(data: dict[str, Any]) -> pd.DataFrame:
    """One row per pair of paired step-timing blocks: seconds and steps of the case and of its reference, which
    went first, and the case's axes as ``axis_<name>`` columns."""
    rows = []
    for bench in data["benchmarks"]:
        if kind_of(bench) != "step_timing":
            continue
        info = bench["extra_info"]
        tag = {"scenario": info.get("scenario"), "case_id": info.get("case_id"), "against_id": info.get("against_id")}
        axes = {f"axis_{axis}": value for axis, value in (info.get("axes") or {}).items()}
        rows.extend({**tag, "block": i, **block, **axes} for i, block in enumerate(info.get("blocks") or []))
    return pd.DataFrame(rows, columns=None if rows else BLOCK_COLUMNS)


def timing_items(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Every paired step-timing item as recorded: scenario, case_id, against_id, status (``ok``, ``oom``,
    ``failed``; ``ok`` where the file predates it), error and the number of blocks it timed."""
    items = [bench["extra_info"] for bench in data["benchmarks"] if kind_of(bench) == "step_timing"]
    keys = ("scenario", "case_id", "against_id", "error")
    return [
        {**{k: i.get(k) for k in keys}, "status": i.get("status") or "ok", "n_blocks": len(i.get("blocks") or [])}
        for i in items
    ]


PHASE_COLUMNS = ["scenario", "case_id", "phase", "ms", "share", "peak_mib", "phases_from"]


def profiles(data: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """(scenario, case id) → the case's profiled window as recorded (``extra_info`` of its ``kind: profile`` item);
    empty for files written before profiling (format 2 and older)."""
    out = {}
    for bench in data["benchmarks"]:
        if kind_of(bench) == "profile":
            info = bench["extra_info"]
            out[(info.get("scenario"), info.get("case_id"))] = info
    return out


def phases_frame(data: dict[str, Any]) -> pd.DataFrame:
    """One row per phase of each profiled case: milliseconds per step, share of the profiled step, peak memory (MiB)
    and the timeline it was read from (``phases_from``: ``host`` or ``device``), with the case's axes as
    ``axis_<name>`` columns."""
    rows = []
    for (scenario, case_id), info in profiles(data).items():
        axes = {f"axis_{axis}": value for axis, value in (info.get("axes") or {}).items()}
        tag = {"scenario": scenario, "case_id": case_id, "phases_from": info.get("phases_from"), **axes}
        phases = info.get("phases") or []  # a window that failed has none
        rows.extend({**tag, **{k: row.get(k) for k in ("phase", "ms", "share", "peak_mib")}} for row in phases)
    return pd.DataFrame(rows, columns=None if rows else PHASE_COLUMNS)


def blocked_by_seed(data: dict[str, Any]) -> bool:
    """Whether the session ran its runs in blocks of seeds (seed-major or random order), so that runs of two cases
    with the same seed ran close in time and pair."""
    return run_order(data)["mode"] in ("seed-major", "random")


def run_order(data: dict[str, Any]) -> dict[str, Any]:
    """How the session ordered its runs (``mode``, ``seed``); format-1 sessions ran case-major (all seeds of a case
    together)."""
    order = data.get("benchsuite", {}).get("run_order") or {}
    return {"mode": order.get("mode") or "case-major", "seed": order.get("seed")}


def scenario_paths(data: dict[str, Any]) -> list[str]:
    """The scenario folders and files the session was given (``--scenarios``, e.g. ``scenarios/extended``: which
    selection ran); empty for files that predate the record."""
    paths = data.get("benchsuite", {}).get("scenario_paths")
    return [str(p) for p in paths] if isinstance(paths, list) else []


def _per_point(data: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """Rows of every run's ``extra_info[key]`` list (curve or timeline), each tagged with scenario, case and seed."""
    rows = []
    for bench in data["benchmarks"]:
        if kind_of(bench) != "run":
            continue  # paired timings and profiles have no curve or timeline
        info = bench["extra_info"]
        tag = {"scenario": info.get("scenario"), "case_id": info.get("case_id"), "seed": info.get("seed")}
        rows.extend({**tag, **point} for point in info.get(key) or [])
    return rows


def curves_frame(data: dict[str, Any]) -> pd.DataFrame:
    """One row per evaluation: scenario, case_id, seed, step, epoch, timed_s, train_loss, val_loss, val_accuracy,
    val_balanced_accuracy (empty in files that predate it; lr where recorded)."""
    columns = ["scenario", "case_id", "seed", "step", "epoch", "timed_s", "train_loss", "val_loss", "val_accuracy"]
    columns.append("val_balanced_accuracy")
    return pd.DataFrame(_per_point(data, "curve"), columns=columns)


def timelines_frame(data: dict[str, Any]) -> pd.DataFrame:
    """One row per telemetry sample: scenario, case_id, seed, t_s and every sampled metric."""
    rows = _per_point(data, "timeline")
    return pd.DataFrame(rows, columns=None if rows else ["scenario", "case_id", "seed", "t_s"])


def scenario_specs(data: dict[str, Any]) -> dict[str, StoredScenario]:
    """The scenarios stored in the results file, as they were run (see :mod:`benchsuite.results.stored`)."""
    stored = data.get("benchsuite", {}).get("scenarios") or {}
    return {name: stored_scenario(name, spec) for name, spec in stored.items()}


def _cpu_kind(info: dict[str, Any]) -> str:
    """``zen5, native bf16 (avx512bf16); `` or ``zen3, bf16 emulated; ``; empty for files that predate it."""
    if not info.get("cpu_microarchitecture"):
        return ""
    bf16 = info.get("cpu_bf16") or []
    return f"{info['cpu_microarchitecture']}, " + (f"native bf16 ({', '.join(bf16)}); " if bf16 else "bf16 emulated; ")


def _gpu_text(gpu: dict[str, Any]) -> str:
    """``NVIDIA H100 80GB HBM3 (81559 MiB), ...`` of the GPUs a file names, or ``none``."""
    names, memory = gpu.get("names", []), gpu.get("memory_mib", [])
    return ", ".join(f"{n} ({m} MiB)" for n, m in zip(names, memory, strict=False)) or "none"


def hardware_summary(data: dict[str, Any]) -> dict[str, Any]:
    """Machine id, device, CPU, GPU, torch: the hardware every figure of the file came from."""
    machine = data.get("machine_info") or {}
    info = machine.get("benchsuite") or {}
    gpu = info.get("gpu") or {}
    return {
        "machine_id": info.get("machine_id", "unknown"),
        "device": info.get("device", "unknown"),
        "cpu": f"{info.get('cpu_model', '?')} ({_cpu_kind(info)}{info.get('cpu_logical_cores', '?')} logical cores)",
        "gpu": _gpu_text(gpu),
        "gpu_driver": gpu.get("driver_version") or "n/a",
        "cuda": gpu.get("cuda_version") or "n/a",
        "torch": info.get("torch_version", "?"),
        "python": machine.get("python_version", "?"),
        "datetime": data.get("datetime", "?"),
        "commit": (data.get("commit_info") or {}).get("id") or "n/a",
    }
