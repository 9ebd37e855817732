"""The profiled window of one case: its steps under ``torch.profiler``, apart from its runs and their timed regions.

The case is built as its runs build it (workload, precision, loader, compile; wrapped for the ranks of a
data-parallel case) from one seed. ``wait`` steps run first, ``warmup`` steps are recorded and discarded, then
``steps`` steps are recorded (``torch.profiler.schedule``), each phase of a step marked with
``torch.profiler.record_function`` (:mod:`benchsuite.telemetry.phases`). The same number of unprofiled steps is timed
right before and right after the window, so the profiler's own overhead is measured on the same warm model.
On CUDA the window also runs under ``torch.cuda.set_sync_debug_mode("warn")``, which warns at every synchronising
operation (PyTorch's documentation of ``torch.cuda.set_sync_debug_mode``); each warning is counted with the source
line that caused it. The device work of the last step is waited for inside its window, so it is recorded.

Sources: PyTorch's profiler recipe and ``torch.profiler`` API documentation (schedule, record_function,
export_chrome_trace, key_averages, profile_memory, with_flops).
"""

from __future__ import annotations

import contextlib
import gzip
import json
import math
import tempfile
import warnings
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch.profiler import ProfilerActivity, profile, record_function, schedule

from benchsuite.profiling import trace as trace_reading
from benchsuite.profiling.hta import hta_breakdown
from benchsuite.profiling.operators import top_operators
from benchsuite.profiling.syncs import SYNC_WARNING, short_path
from benchsuite.results.files import atomic_write_bytes
from benchsuite.scenario.matrix import Case
from benchsuite.specs.profile import ProfileSpec
from benchsuite.telemetry import phases
from benchsuite.telemetry.clock import synchronize
from benchsuite.training import precision
from benchsuite.training.faults import first_line, is_out_of_memory, oom_message, release_cached_memory
from benchsuite.training.ranks import Solo
from benchsuite.training.run import UnsupportedCase
from benchsuite.training.standalone import StandaloneCase

WARM_STEPS = 2
"""Unprofiled steps before anything is timed (a fresh model's first steps allocate the optimizer's state)."""
MIN_REFERENCE_S = 0.05
MAX_REFERENCE_STEPS = 50
"""The unprofiled steps timed before and after the window: as many as the recorded steps, or more, up to
:data:`MAX_REFERENCE_STEPS`, so that each side lasts :data:`MIN_REFERENCE_S` seconds (short steps read noisy)."""


def marked(phase: str) -> record_function:
    """The profiler range of ``phase`` (``benchsuite/forward``)."""
    return record_function(phases.range_name(phase))


@dataclass
class Recording:
    """What a window recorded: the Chrome trace (parsed and gzipped), ``key_averages()``, the sync warnings, and the
    unprofiled seconds per step around it."""

    trace: dict[str, Any] = field(default_factory=dict)
    gzipped: bytes = b""
    averages: list[Any] = field(default_factory=list)
    syncs: list[warnings.WarningMessage] | None = None
    steps_run: int = 0
    unprofiled_step_s: float | None = None


@contextlib.contextmanager
def sync_watch(device: torch.device, cuda: Any = torch.cuda) -> Iterator[list | None]:
    """On CUDA, warn at every synchronising operation for the duration and collect the warnings (other warnings are
    passed on afterwards); elsewhere nothing (a CPU step has nothing to wait for). ``cuda`` is ``torch.cuda`` (tests
    pass a fake)."""
    if device.type != "cuda":
        yield None
        return
    previous = cuda.get_sync_debug_mode()
    cuda.set_sync_debug_mode("warn")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield caught
        finally:
            cuda.set_sync_debug_mode(previous)
    for w in caught:
        if SYNC_WARNING not in str(w.message):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def sync_report(caught: list | None, steps: int, trace: dict) -> dict[str, Any]:
    """Host syncs of the window per step: from the sync warnings (with the source line of each) and from the sync
    calls the trace shows. ``checked`` is False where nothing could sync (a CPU window)."""
    if caught is None:
        return {"checked": False, "per_step": 0.0, "sources": []}
    found = Counter(f"{short_path(w.filename)}:{w.lineno}" for w in caught if SYNC_WARNING in str(w.message))
    sources = [{"where": where, "per_step": n / max(1, steps)} for where, n in found.most_common()]
    return {
        "checked": True,
        "per_step": sum(found.values()) / max(1, steps),
        "sources": sources,
        "trace_calls": trace_reading.sync_calls(trace),
    }


def record(side: StandaloneCase, spec: ProfileSpec, device: torch.device) -> Recording:
    """Run the window on ``side`` and return what it recorded (the unprofiled steps around it included)."""
    out = Recording()
    warm_s = side.block(WARM_STEPS, counted=False) / WARM_STEPS  # a fresh model's first steps allocate its state
    reference = max(spec.steps, min(MAX_REFERENCE_STEPS, math.ceil(MIN_REFERENCE_S / max(warm_s, 1e-9))))
    reference = side.team.agree([reference])[0]  # every rank runs the same steps (DDP's collectives must match)
    before = side.block(reference, counted=False) / reference
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    with tempfile.TemporaryDirectory(prefix="benchsuite-profile-") as folder:
        exported = Path(folder) / "trace.json"

        def ready(prof: profile) -> None:
            prof.export_chrome_trace(str(exported))
            out.averages = list(prof.key_averages(group_by_input_shape=spec.record_shapes))

        total = spec.wait + spec.warmup + spec.steps
        window = schedule(wait=spec.wait, warmup=spec.warmup, active=spec.steps, repeat=1)
        options = {
            "record_shapes": spec.record_shapes,
            "profile_memory": spec.profile_memory,
            "with_stack": spec.with_stack,
            "with_flops": spec.record_shapes,
        }
        with side.precision_mode(), sync_watch(device) as caught:
            with profile(activities=activities, schedule=window, on_trace_ready=ready, **options) as prof:
                for index in range(total):
                    if index == spec.wait and side.team.world_size == 1:  # recording starts here; HTA reads the
                        prof.add_metadata_json("distributedInfo", json.dumps({"rank": 0}))  # rank (DDP's is written)
                    side.step(marked)
                    if index == total - 1:
                        synchronize(device)  # the last step's device work belongs to its window
                    prof.step()
        out.syncs, out.steps_run = caught, total
        side.end_block()
        out.trace = json.loads(exported.read_text(encoding="utf-8"))
        out.gzipped = gzip.compress(exported.read_bytes(), compresslevel=6)
    after = side.block(reference, counted=False) / reference
    out.unprofiled_step_s = (before + after) / 2
    return out


def summarise(recording: Recording, spec: ProfileSpec, device: torch.device) -> dict[str, Any]:
    """The profile of a window: phases per step (device timeline on CUDA, host timeline elsewhere; the host's beside
    it on CUDA), the recorded step time against the unprofiled one, peak memory per phase, top operators, syncs."""
    trace, on_device = recording.trace, device.type == "cuda"
    host = trace_reading.host_phases(trace)
    per_step = trace_reading.device_phases(trace) if on_device else []
    timeline = "device" if per_step else "host"
    steps = trace_reading.step_spans(trace)
    step_ms = sum(s.end - s.start for s in steps) / max(1, len(steps)) / 1000.0
    peaks = trace_reading.memory_peaks(trace, 1 if on_device else 0)
    table = trace_reading.mean_phases(per_step or host)
    unprofiled_ms = recording.unprofiled_step_s * 1000.0 if recording.unprofiled_step_s else None
    return {
        "status": "ok",
        "phases_from": timeline,
        "steps": len(steps),
        "step_ms": step_ms,
        "unprofiled_step_ms": unprofiled_ms,
        "profiler_overhead": step_ms / unprofiled_ms if unprofiled_ms else None,
        "phases": [
            {"phase": p, "ms": ms, "share": ms / step_ms if step_ms else None, "peak_mib": peaks.get(p)}
            for p, ms in table.items()
        ],
        "host_phases": _rows(trace_reading.mean_phases(host), step_ms) if timeline == "device" else [],
        "overlapped_communication_ms": _mean(trace_reading.overlapped_collectives(trace)) / 1000.0,
        "top_ops": top_operators(recording.averages, len(steps), spec.top_ops, on_device),
        "syncs": sync_report(recording.syncs, recording.steps_run, trace),
    }


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def _rows(table: dict[str, float], step_ms: float) -> list[dict[str, Any]]:
    return [{"phase": p, "ms": ms, "share": ms / step_ms if step_ms else None} for p, ms in table.items()]


def keep_trace(gzipped: bytes, path: Path | None, max_mib: float) -> dict[str, Any]:
    """Write the gzipped trace to ``path`` (atomically) unless it is larger than ``max_mib``; say what was kept."""
    size = len(gzipped)
    if path is None:
        return {"trace": None, "trace_bytes": size, "trace_note": "no trace folder was given"}
    if size > max_mib * 2**20:
        return {
            "trace": None,
            "trace_bytes": size,
            "trace_note": f"trace of {size / 2**20:.1f} MiB left out (profile.max_trace_mib is {max_mib:g})",
        }
    atomic_write_bytes(Path(path), gzipped)
    return {"trace": str(path), "trace_bytes": size, "trace_note": None}


def rank_trace_path(path: Path | None, team) -> Path | None:
    """The trace file of this rank: ``x.json.gz``, or ``x.rank1.json.gz`` on rank 1 of a data-parallel case."""
    if path is None or team.world_size == 1:
        return path
    name = Path(path).name.removesuffix(".json.gz")
    return Path(path).with_name(f"{name}.rank{team.rank}.json.gz")


def profile_case(
    case: Case, device: torch.device, spec: ProfileSpec, *, seed: int = 0, trace_path: Path | None = None, team=None
) -> dict[str, Any]:
    """Profile ``case`` on ``device`` (on every rank of ``team``); rank 0's profile, with every rank's step time.

    Returns:
        The profile (see :func:`summarise`), its identity, the trace kept (``trace``: its path, or None with
        ``trace_note``), and Holistic Trace Analysis's breakdown on CUDA where it is installed (``hta``, else
        ``hta_note``); status ``oom`` (with ``error``) when the window ran out of memory, ``failed`` (with the error's
        first line) when it raised anything else on one process (on data-parallel ranks that propagates: the pool
        records the case ``crashed``).

    Raises:
        UnsupportedCase: the case's precision cannot run on ``device``.
    """
    device, team = torch.device(device), team or Solo()
    reason = precision.unsupported_reason(case.config.techniques.precision, device)
    if reason:
        raise UnsupportedCase(reason)
    identity = {
        "scenario": case.scenario,
        "case_id": case.case_id,
        "axes": dict(case.axes),
        "device": str(device),
        "world_size": team.world_size,
        "wait": spec.wait,
        "warmup": spec.warmup,
        "precision": precision.in_effect(case.config.techniques.precision, device),
    }
    try:
        recording = record(StandaloneCase(case, device, seed, team), spec, device)
    except Exception as error:  # out of memory, or (on one process) any other failure: recorded, the session goes on
        if not (is_out_of_memory(error) or team.world_size == 1):
            raise
        oom = is_out_of_memory(error)
        status = "oom" if oom else "failed"
        message = oom_message(error, "the profiled window") if oom else first_line(error)
        recording = None
    if recording is None:
        release_cached_memory(device)
        return {**identity, "status": status, "error": message, "phases": [], "top_ops": []}
    summary = {**identity, **summarise(recording, spec, device)}
    kept = keep_trace(recording.gzipped, rank_trace_path(trace_path, team), spec.max_trace_mib)
    summary.update(kept, ranks=team.gather({"rank": team.rank, "step_ms": summary["step_ms"], "trace": kept["trace"]}))
    if team.is_leader:  # every rank's trace is written by now (the gather above waited for them)
        summary.update(_hta(summary, device))
    return summary


def _hta(summary: dict[str, Any], device: torch.device) -> dict[str, Any]:
    """Holistic Trace Analysis on the kept traces of every rank (CUDA only)."""
    if device.type != "cuda":
        return {"hta": None, "hta_note": "Holistic Trace Analysis reads CUDA traces; this window ran on a CPU"}
    traces = {r["rank"]: Path(r["trace"]) for r in summary["ranks"] if r.get("trace")}
    breakdown, note = hta_breakdown(traces)
    return {"hta": breakdown, "hta_note": note}


def relative_traces(info: dict[str, Any], base: Path) -> dict[str, Any]:
    """The profile with its trace paths relative to ``base``, the results file's folder (``<run-id>/traces/…``), so
    that the results folder can move."""

    def relative(path: str | None) -> str | None:
        return str(Path(path).relative_to(base)) if path else None

    ranks = [{**r, "trace": relative(r.get("trace"))} for r in info.get("ranks", [])]
    return {**info, "trace": relative(info.get("trace")), "ranks": ranks}
