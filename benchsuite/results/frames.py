"""Results JSON → tidy pandas DataFrames. The only place where JSON becomes pandas.

Tables:
- runs: one row per run (case × seed) with every per-run figure from ``extra_info``; pytest-benchmark's own
  figure (the timed training region) is the ``benchmark_s`` column.
- curves: one row per evaluation of every run.
- blocks: one row per pair of paired step-timing blocks.
- profiles: a case's profiled window as recorded (:func:`profiles`), and its phases one row each (:func:`phases_frame`).

Results files of older formats reach this module already migrated (:func:`benchsuite.results.files.read_results`).
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

#: Telemetry and utilisation columns (absent ones, e.g. GPU metrics on a CPU run, stay empty).
HARDWARE_COLUMNS = COLUMNS


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
        info = bench.get("extra_info", {})
        if "case_id" not in info or info.get("kind", "run") != "run":
            continue  # a benchmark that is not a benchsuite run
        row = {k: info.get(k) for k in RUN_COLUMNS + HARDWARE_COLUMNS}
        row["benchmark_s"] = bench["stats"]["median"]
        row["unstable"] = bool(row["unstable"])
        row["world_size"] = row["world_size"] or 1  # runs before data parallelism trained on one process
        row.update({f"axis_{axis}": value for axis, value in info.get("axes", {}).items()})
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
        info = bench.get("extra_info", {})
        if info.get("kind") != "step_timing":
            continue
        tag = {"scenario": info["scenario"], "case_id": info["case_id"], "against_id": info["against_id"]}
        axes = {f"axis_{axis}": value for axis, value in info.get("axes", {}).items()}
        rows.extend({**tag, "block": i, **block, **axes} for i, block in enumerate(info.get("blocks", [])))
    return pd.DataFrame(rows, columns=None if rows else BLOCK_COLUMNS)


PHASE_COLUMNS = ["scenario", "case_id", "phase", "ms", "share", "peak_mib", "phases_from"]


def profiles(data: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """(scenario, case id) → the case's profiled window as recorded (``extra_info`` of its ``kind: profile`` item);
    empty for files written before profiling (format 2 and older)."""
    out = {}
    for bench in data["benchmarks"]:
        info = bench.get("extra_info", {})
        if info.get("kind") == "profile":
            out[(info["scenario"], info["case_id"])] = info
    return out


def phases_frame(data: dict[str, Any]) -> pd.DataFrame:
    """One row per phase of each profiled case: milliseconds per step, share of the profiled step, peak memory (MiB)
    and the timeline it was read from (``phases_from``: ``host`` or ``device``), with the case's axes as
    ``axis_<name>`` columns."""
    rows = []
    for (scenario, case_id), info in profiles(data).items():
        axes = {f"axis_{axis}": value for axis, value in info.get("axes", {}).items()}
        tag = {"scenario": scenario, "case_id": case_id, "phases_from": info.get("phases_from"), **axes}
        rows.extend({**tag, **{k: row.get(k) for k in ("phase", "ms", "share", "peak_mib")}} for row in info["phases"])
    return pd.DataFrame(rows, columns=None if rows else PHASE_COLUMNS)


def blocked_by_seed(data: dict[str, Any]) -> bool:
    """Whether the session ran its runs in blocks of seeds (seed-major or random order), so that runs of two cases
    with the same seed ran close in time and pair."""
    return run_order(data)["mode"] in ("seed-major", "random")


def run_order(data: dict[str, Any]) -> dict[str, Any]:
    """How the session ordered its runs (``mode``, ``seed``); format-1 sessions ran case-major (all seeds of a case
    together)."""
    return data.get("benchsuite", {}).get("run_order") or {"mode": "case-major", "seed": None}


def _per_point(data: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """Rows of every run's ``extra_info[key]`` list (curve or timeline), each tagged with scenario, case and seed."""
    rows = []
    for bench in data["benchmarks"]:
        info = bench.get("extra_info", {})
        if info.get("kind", "run") != "run":
            continue  # paired timings and profiles have no curve or timeline
        tag = {"scenario": info.get("scenario"), "case_id": info.get("case_id"), "seed": info.get("seed")}
        rows.extend({**tag, **point} for point in info.get(key, []))
    return rows


def curves_frame(data: dict[str, Any]) -> pd.DataFrame:
    """One row per evaluation: scenario, case_id, seed, step, epoch, timed_s, train_loss, val_loss, val_accuracy
    (and lr where recorded)."""
    columns = ["scenario", "case_id", "seed", "step", "epoch", "timed_s", "train_loss", "val_loss", "val_accuracy"]
    return pd.DataFrame(_per_point(data, "curve"), columns=columns)


def timelines_frame(data: dict[str, Any]) -> pd.DataFrame:
    """One row per telemetry sample: scenario, case_id, seed, t_s and every sampled metric."""
    rows = _per_point(data, "timeline")
    return pd.DataFrame(rows, columns=None if rows else ["scenario", "case_id", "seed", "t_s"])


def scenario_specs(data: dict[str, Any]) -> dict[str, StoredScenario]:
    """The scenarios stored in the results file, as they were run (see :mod:`benchsuite.results.stored`)."""
    stored = data.get("benchsuite", {}).get("scenarios", {})
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
    info = data.get("machine_info", {}).get("benchsuite", {})
    gpu = info.get("gpu", {})
    return {
        "machine_id": info.get("machine_id", "unknown"),
        "device": info.get("device", "unknown"),
        "cpu": f"{info.get('cpu_model', '?')} ({_cpu_kind(info)}{info.get('cpu_logical_cores', '?')} logical cores)",
        "gpu": _gpu_text(gpu),
        "gpu_driver": gpu.get("driver_version") or "n/a",
        "cuda": gpu.get("cuda_version") or "n/a",
        "torch": info.get("torch_version", "?"),
        "python": data.get("machine_info", {}).get("python_version", "?"),
        "datetime": data.get("datetime", "?"),
        "commit": (data.get("commit_info") or {}).get("id") or "n/a",
    }
