"""Where a profiled step's time goes, read from the window's Chrome trace (``torch.profiler``'s
``export_chrome_trace``): the one reading of a trace, for a CPU and a CUDA window alike, so that the CUDA paths are
tested with trace files written by hand. No torch.

Trace events (Chrome trace format; ``ts`` and ``dur`` in microseconds): ``ProfilerStep#N`` and benchsuite's phase
ranges are ``user_annotation`` events on the training thread; operators are ``cpu_op``; on CUDA, ``kernel``,
``gpu_memcpy`` and ``gpu_memset`` events run on the device, each linked to the ``cuda_runtime`` (or ``cuda_driver``)
call that launched it by ``args.correlation``; allocator events are ``[memory]`` instants with ``Total Allocated``.

- Host phases (every device): the self time of each phase range on the training thread (a collective operation on that
  thread is carved out as ``communication``), per recorded step; the rest of the step is ``other``.
- Device phases (CUDA): each device activity is given to the phase and the step whose host range contains its launch
  (kineto's ``gpu_user_annotation`` spans cannot serve: they mark only the innermost range and only the launching
  thread, so backward kernels launched by the autograd thread and the optimizer's kernels inside its own
  ``Optimizer.step`` range would be lost). ``idle`` is the step's wall time less the union of its activities.
- Peak memory per phase: the largest ``Total Allocated`` seen in the phase's windows (seeded with the level before).
- Host syncs (CUDA): ``cudaStreamSynchronize``, ``cudaDeviceSynchronize`` and ``cudaEventSynchronize`` calls per step.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from benchsuite.telemetry import phases

DEVICE_ACTIVITIES = ("kernel", "gpu_memcpy", "gpu_memset")
LAUNCHES = ("cuda_runtime", "cuda_driver")
SYNC_CALLS = ("cudaStreamSynchronize", "cudaDeviceSynchronize", "cudaEventSynchronize")
_COLLECTIVE = re.compile(r"(all_?reduce|all_?gather|reduce_?scatter|broadcast|barrier)", re.IGNORECASE)
_STEP = re.compile(r"^ProfilerStep#\d+$")
MIB = 2**20


@dataclass(frozen=True)
class Span:
    """A labelled interval of a trace, in microseconds."""

    label: str
    start: float
    end: float
    tid: Any = None

    def contains(self, t: float) -> bool:
        return self.start <= t <= self.end


def _complete(events: Iterable[dict]) -> Iterable[dict]:
    return (e for e in events if e.get("ph") == "X" and "ts" in e and "dur" in e)


def step_spans(trace: dict) -> list[Span]:
    """The recorded steps (``ProfilerStep#N`` ranges), in time order."""
    steps = [
        Span(e["name"], float(e["ts"]), float(e["ts"]) + float(e["dur"]), e.get("tid"))
        for e in _complete(trace.get("traceEvents", []))
        if e.get("cat") == "user_annotation" and _STEP.match(str(e.get("name", "")))
    ]
    return sorted(steps, key=lambda s: s.start)


def phase_spans(trace: dict) -> list[Span]:
    """benchsuite's phase ranges (``benchsuite/forward``, ...), on every thread."""
    out = []
    for e in _complete(trace.get("traceEvents", [])):
        phase = phases.phase_of(str(e.get("name", ""))) if e.get("cat") == "user_annotation" else None
        if phase is not None:
            out.append(Span(phase, float(e["ts"]), float(e["ts"]) + float(e["dur"]), e.get("tid")))
    return out


def collective_spans(trace: dict) -> list[Span]:
    """Collective operations (all-reduce, all-gather, broadcast, ...) recorded as operators or ranges."""
    return [
        Span(phases.COMMUNICATION, float(e["ts"]), float(e["ts"]) + float(e["dur"]), e.get("tid"))
        for e in _complete(trace.get("traceEvents", []))
        if e.get("cat") in ("cpu_op", "user_annotation") and _COLLECTIVE.search(str(e.get("name", "")))
    ]


def self_times(window: Span, spans: list[Span]) -> dict[str, float]:
    """Microseconds of ``window`` given to each label: every instant goes to the innermost span covering it (the one
    that started last), and instants no span covers to ``other``. The labels' times add up to the window."""
    inside = [s for s in spans if s.end > window.start and s.start < window.end]
    cuts = sorted(
        {window.start, window.end, *(max(window.start, min(window.end, t)) for s in inside for t in (s.start, s.end))}
    )
    out: dict[str, float] = defaultdict(float)
    for a, b in zip(cuts, cuts[1:], strict=False):
        mid = (a + b) / 2
        covering = [s for s in inside if s.start <= mid < s.end]
        label = max(covering, key=lambda s: (s.start, -s.end)).label if covering else phases.OTHER
        out[label] += b - a
    return dict(out)


def host_phases(trace: dict) -> list[dict[str, float]]:
    """Per recorded step, microseconds of each phase on the training thread (the thread of ``ProfilerStep``), with
    ``communication`` carved out of the phase it ran in and ``other`` the rest."""
    steps = step_spans(trace)
    if not steps:
        return []
    thread = steps[0].tid
    spans = [s for s in (*phase_spans(trace), *collective_spans(trace)) if s.tid == thread]
    return [self_times(step, spans) for step in steps]


def overlapped_collectives(trace: dict) -> list[float]:
    """Per recorded step, microseconds in which collectives ran on threads other than the training thread (the
    process group's own threads: gloo's all-reduce of DDP's buckets, overlapping the backward pass); not a phase, since
    the step's phases already hold that time."""
    steps = step_spans(trace)
    if not steps:
        return []
    others = [s for s in collective_spans(trace) if s.tid != steps[0].tid]
    return [
        union_us(
            [
                (max(c.start, step.start), min(c.end, step.end))
                for c in others
                if c.end > step.start and c.start < step.end
            ]
        )
        for step in steps
    ]


@dataclass(frozen=True)
class DeviceActivity:
    """A kernel, copy or memset on the device with the host time of the call that launched it."""

    start: float
    end: float
    launched: float


def device_activities(trace: dict) -> list[DeviceActivity]:
    """Every device activity of the trace joined to its launch by ``args.correlation`` (unlinked ones are left out)."""
    events = list(_complete(trace.get("traceEvents", [])))
    launch_ts = {
        e.get("args", {}).get("correlation"): float(e["ts"])
        for e in events
        if e.get("cat") in LAUNCHES and e.get("args", {}).get("correlation") is not None
    }
    out = []
    for e in events:
        if e.get("cat") in DEVICE_ACTIVITIES:
            launched = launch_ts.get(e.get("args", {}).get("correlation"))
            if launched is not None:
                out.append(DeviceActivity(float(e["ts"]), float(e["ts"]) + float(e["dur"]), launched))
    return out


def _innermost(spans: list[Span], t: float) -> str | None:
    covering = [s for s in spans if s.contains(t)]
    return max(covering, key=lambda s: (s.start, -s.end)).label if covering else None


def union_us(intervals: list[tuple[float, float]]) -> float:
    """Length of the union of ``intervals`` (the time at least one of them runs)."""
    total, reach = 0.0, float("-inf")
    for start, end in sorted(intervals):
        if end > reach:
            total += end - max(start, reach)
            reach = end
    return total


def device_phases(trace: dict) -> list[dict[str, float]]:
    """Per recorded step, microseconds of device activity launched in each phase, ``idle`` (the step's wall time less
    the union of its activities) and ``other`` (activity launched outside any phase, plus what concurrent streams make
    the sum exceed the union, as a negative number when they do). Empty without device activity."""
    steps, spans = step_spans(trace), phase_spans(trace)
    activities = device_activities(trace)
    if not steps or not activities:
        return []
    out = []
    for step in steps:
        mine = [a for a in activities if step.contains(a.launched)]
        busy: dict[str, float] = defaultdict(float)
        for a in mine:
            busy[_innermost(spans, a.launched) or phases.OTHER] += a.end - a.start
        wall = step.end - step.start
        union = union_us([(a.start, a.end) for a in mine])
        busy[phases.IDLE] = max(0.0, wall - union)
        busy[phases.OTHER] = busy.get(phases.OTHER, 0.0) + (union - sum(a.end - a.start for a in mine))
        out.append(dict(busy))
    return out


def memory_peaks(trace: dict, device_type: int) -> dict[str, float]:
    """Peak ``Total Allocated`` (MiB) of the allocator of ``device_type`` (0: CPU, 1: CUDA) within each phase's ranges,
    the level before a range counting as its start (a phase that only frees reports that level)."""
    memory = sorted(
        (float(e["ts"]), float(e["args"]["Total Allocated"]))
        for e in trace.get("traceEvents", [])
        if e.get("name") == "[memory]"
        and e.get("args", {}).get("Device Type") == device_type
        and "Total Allocated" in e.get("args", {})
    )
    if not memory:
        return {}
    peaks: dict[str, float] = {}
    for span in phase_spans(trace):
        before = [level for ts, level in memory if ts < span.start]
        levels = [level for ts, level in memory if span.contains(ts)] + before[-1:]
        if levels:
            peaks[span.label] = max(peaks.get(span.label, 0.0), max(levels) / MIB)
    return peaks


def sync_calls(trace: dict) -> dict[str, Any]:
    """Host syncs the trace shows: per call name, how many per recorded step, and the phases they ran in."""
    steps, spans = step_spans(trace), phase_spans(trace)
    calls = [
        e
        for e in _complete(trace.get("traceEvents", []))
        if e.get("cat") in LAUNCHES and e.get("name") in SYNC_CALLS and any(s.contains(float(e["ts"])) for s in steps)
    ]
    per_step = {name: sum(e["name"] == name for e in calls) / len(steps) for name in SYNC_CALLS} if steps else {}
    where = sorted({_innermost(spans, float(e["ts"])) or phases.OTHER for e in calls})
    return {"per_step": {k: v for k, v in per_step.items() if v}, "phases": where}


def mean_phases(per_step: list[dict[str, float]]) -> dict[str, float]:
    """Milliseconds per step of each phase, the mean over the recorded steps, in the report's order."""
    if not per_step:
        return {}
    labels = [p for p in phases.REPORTED if any(p in step for step in per_step)]
    return {p: sum(step.get(p, 0.0) for step in per_step) / len(per_step) / 1000.0 for p in labels}
