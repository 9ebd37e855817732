"""Per-run telemetry figures from the sampler's samples: statistics over the timed region, energy, energy-to-target.

Only samples taken inside the timed region count for its statistics (kernel-busy, power, CPU, ...): never all
samples in their place, which on a fast GPU would describe evaluation and setup instead. Each run reports how many
samples fell inside; with fewer than :data:`MIN_TIMED_SAMPLES` the timed-region figures are left out and the run
says so. A scenario can lengthen the window with ``train.min_timed_s`` (the loop goes on training after the run, in
segments timed apart from it), so that telemetry and energy of a fast GPU mean something.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.integrate import trapezoid  # numpy's np.trapezoid needs NumPy 2, the floor is 1.24

from benchsuite.telemetry.metrics import SAMPLED
from benchsuite.telemetry.nvml import clock_event_names
from benchsuite.telemetry.sampler import Sampler, series

#: Samples inside the timed region below which its statistics are not reported (NVML averages utilisation and power
#: over up to a second, and one or two samples of a 0.1 s sampler say little about a region).
MIN_TIMED_SAMPLES = 3

_STATS = {m.name: m.stats for m in SAMPLED}


def energy_over_intervals(
    times: np.ndarray, power_w: np.ndarray, intervals: list[tuple[float, float]], until_s: float | None = None
) -> float | None:
    """Energy (J) = ∫ power dt over the clock ``intervals`` (the timed region), stopping after ``until_s`` timed
    seconds; power is interpolated linearly between samples. None without at least two power samples."""
    if len(times) < 2:
        return None
    total = 0.0
    for start, end in timed_spans(intervals, until_s):
        grid = np.linspace(start, end, 64)
        total += float(trapezoid(np.interp(grid, times, power_w), grid))
    return total


def timed_spans(intervals: list[tuple[float, float]], until_s: float | None = None) -> list[tuple[float, float]]:
    """The clock ``intervals`` cut off once they hold ``until_s`` seconds in all (all of them with None), empty
    ones left out: the stretch of the timed region up to the time-to-target."""
    spans, timed = [], 0.0
    for start, end in intervals:
        if until_s is not None:
            end = min(end, start + max(0.0, until_s - timed))
        if end > start:
            spans.append((start, end))
            timed += end - start
    return spans


def inside(samples: list, intervals: list[tuple[float, float]]) -> list:
    """The samples taken inside ``intervals`` (none of the others, ever)."""
    return [(t, v) for t, v in samples if any(a <= t <= b for a, b in intervals)]


def run_summary(
    sampler: Sampler,
    intervals: list[tuple[float, float]],
    until_s: float | None,
    extension: list[tuple[float, float]] = (),
) -> dict[str, Any]:
    """Per-run telemetry figures over the samples inside the timed ``intervals`` (and the ``extension`` segments
    trained after the run to lengthen the window, when the scenario asks for a minimum timed duration).

    Energy (``energy_j``): of the timed ``intervals`` only, never the evaluations, setup and warm-up around them:
    the rise of the NVML energy counter sampled with every sample where the GPU has one
    (``energy_method: counter``), else power integrated over the intervals (``integrated_power``).
    Energy-to-target: the same up to ``until_s`` timed seconds (the time-to-target); with an extension, the window's
    mean power × the time-to-target (``energy_to_target_method``).
    """
    window = [*intervals, *extension]
    timed = inside(sampler.samples, window)
    out: dict[str, Any] = {
        "telemetry_samples": len(sampler.samples),
        "telemetry_samples_timed": len(timed),
        "telemetry_interval_s": sampler.interval_s,
        "telemetry_window_s": round(sum(b - a for a, b in window), 6),
        "gpu_telemetry": sampler.gpu.description if sampler.gpu else sampler.gpu_unavailable,
        "dropped_metrics": sampler.gpu.dropped if sampler.gpu else [],
        "dropped_reasons": dict(sampler.gpu.reasons) if sampler.gpu else {},
    }
    if len(timed) < MIN_TIMED_SAMPLES:
        out["telemetry_coverage"] = (
            f"{len(timed)} of {len(sampler.samples)} samples fell inside the timed region "
            f"(at least {MIN_TIMED_SAMPLES} are needed): no timed-region telemetry; "
            "train.min_timed_s lengthens the window"
        )
    else:
        out.update(_statistics(timed))
        out.update(clock_events(timed))
    out.update(_energy(sampler, intervals, until_s, extension, enough=len(timed) >= MIN_TIMED_SAMPLES))
    return out


def clock_events(timed: list) -> dict[str, Any]:
    """``clock_event_shares``: each named clock-event (throttle) reason (:data:`benchsuite.telemetry.nvml.
    CLOCK_EVENT_REASONS`: power cap, thermal or hardware slowdown, sync boost...) → the share of the timed samples
    that had it set, for the reasons seen; empty without the metric (the board does not report it)."""
    _, bits = series(timed, "clock_event_reasons")
    if not len(bits):
        return {}
    counts: dict[str, int] = {}
    for value in bits:
        for name in clock_event_names(value):
            counts[name] = counts.get(name, 0) + 1
    return {"clock_event_shares": {name: round(n / len(bits), 3) for name, n in sorted(counts.items())}}


def _statistics(timed: list) -> dict[str, float]:
    fns = {"mean": np.mean, "p95": lambda v: np.percentile(v, 95), "peak": np.max}
    out = {}
    for metric, kinds in _STATS.items():
        _, values = series(timed, metric)
        if len(values):
            out.update({f"{metric}_{kind}": round(float(fns[kind](values)), 3) for kind in kinds})
    return out


def counter_over_intervals(
    times: np.ndarray, counter_j: np.ndarray, intervals: list[tuple[float, float]], until_s: float | None = None
) -> float | None:
    """Energy (J) over the clock ``intervals`` from a cumulative energy counter sampled at ``times``: the counter's
    rise across each interval (linearly interpolated between samples), stopping after ``until_s`` timed seconds.
    None without at least two counter samples. Source: NVML ``nvmlDeviceGetTotalEnergyConsumption`` (mJ since the
    driver loaded; Volta and later), the counter NVIDIA recommends over integrating the averaged power reading."""
    if len(times) < 2:
        return None
    spans = timed_spans(intervals, until_s)
    return sum((float(np.interp(b, times, counter_j) - np.interp(a, times, counter_j)) for a, b in spans), 0.0)


def _energy(sampler: Sampler, intervals, until_s, extension, enough: bool) -> dict[str, Any]:
    """Energy of the timed region only (never the evaluations, setup or warm-up between and around its segments):
    from the energy counter sampled with every sample where the GPU has one, else power integrated over the timed
    intervals; energy-to-target the same up to the time-to-target."""
    counter_times, counter = series(sampler.samples, "energy_counter_j")
    times, power = series(sampler.samples, "power_w")
    if len(counter_times) >= 2:
        method, how = "counter", "energy counter over the timed region"
        over = lambda spans, until=None: counter_over_intervals(counter_times, counter, spans, until)  # noqa: E731
    else:
        method, how = "integrated_power", "power integrated over the timed region"
        over = lambda spans, until=None: energy_over_intervals(times, power, spans, until)  # noqa: E731
    energy = over(list(intervals)) if intervals else None
    window = None
    if sampler.energy_start_j is not None and sampler.energy_end_j is not None:
        window = round(sampler.energy_end_j - sampler.energy_start_j, 3)
    out = {
        "energy_j": None if energy is None else round(energy, 3),
        "energy_window_j": window,  # the whole sampled window, evaluation and setup included: for comparison only
        "energy_method": method if energy is not None else None,
        "energy_to_target_j": None,
        "energy_to_target_method": None,
    }
    if energy is None or until_s is None or not enough:
        return out
    if extension:
        _, window_power = series(inside(sampler.samples, [*intervals, *extension]), "power_w")
        if len(window_power):
            out.update(
                energy_to_target_j=round(float(np.mean(window_power)) * until_s, 3),
                energy_to_target_method="mean power of the lengthened window × time-to-target",
            )
        return out
    to_target = over(list(intervals), until_s)
    out.update(
        energy_to_target_j=None if to_target is None else round(to_target, 3),
        energy_to_target_method=None if to_target is None else how,
    )
    return out
