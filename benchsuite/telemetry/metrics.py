"""The one declaration of telemetry and utilisation metrics: name, unit, how each is aggregated.

Sampled metrics (:data:`SAMPLED`) come from the sampler (NVML, psutil); a run summarises the samples inside its timed
region with the statistics listed (``kernel_busy_pct`` → ``kernel_busy_pct_mean``, ``kernel_busy_pct_p95``).
Per-run figures (:data:`PER_RUN`) are those summaries and the run's own figures (MFU, energy, torch memory, input
stall); the report shows the median over seeds of each, scaled for display. The telemetry summary, the runs table of
:mod:`benchsuite.results.frames` (its columns), the report's hardware table and its timeline figure all read these
lists. No torch: the report reads them too.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SampledMetric:
    """A metric the sampler reads: ``name`` (the sample key, with its unit as suffix), ``stats`` summarised over the
    timed region (``mean``, ``p95``, ``peak``), and ``timeline`` (the axis label of the report's timeline, or None
    to leave it out)."""

    name: str
    stats: tuple[str, ...]
    timeline: str | None = None


@dataclass(frozen=True)
class RunMetric:
    """A per-run figure: ``column`` in the results, ``header`` in the report (with its unit), ``scale`` applied to
    the median over seeds for display (1e-9 for GFLOP/s, 100 for a share in %), ``shown``: whether the report's
    hardware table has it (some are kept for compare and the results file only)."""

    column: str
    header: str
    scale: float = 1.0
    shown: bool = True


SAMPLED: tuple[SampledMetric, ...] = (
    SampledMetric("kernel_busy_pct", ("mean", "p95"), "kernel-busy %"),
    SampledMetric("mem_busy_pct", ("mean",)),
    SampledMetric("power_w", ("mean",), "power (W)"),
    SampledMetric("mem_used_mib", ("peak",), "device memory in use, all processes (MiB)"),
    SampledMetric("sm_clock_mhz", ("mean",)),
    SampledMetric("temperature_c", ("peak",)),
    SampledMetric("process_cpu_pct", ("mean",), "process CPU % (of one core)"),
    SampledMetric("children_cpu_pct", ("mean",)),
    SampledMetric("system_cpu_pct", ("mean",)),
    SampledMetric("process_rss_mib", ("peak",)),
)

#: In the report's order. Device memory in use is NVML's figure for the whole GPU (every process, the CUDA context,
#: torch's cache and the datasets of earlier runs); torch's peaks are the run's own. Input stall is the GPU's idle
#: time waiting for data on CUDA (CUDA events), the host's wait on a CPU.
PER_RUN: tuple[RunMetric, ...] = (
    RunMetric("achieved_flops_per_s", "achieved GFLOP/s", 1e-9),
    RunMetric("mfu", "MFU %", 100.0),
    RunMetric("kernel_busy_pct_mean", "kernel-busy % mean"),
    RunMetric("kernel_busy_pct_p95", "kernel-busy % p95"),
    RunMetric("power_w_mean", "power W mean"),
    RunMetric("energy_to_target_j", "energy-to-target J"),
    RunMetric("energy_j", "energy J", shown=False),
    RunMetric("telemetry_samples_timed", "telemetry samples in timed region"),
    RunMetric("mem_used_mib_peak", "device memory in use MiB peak (all processes)"),
    RunMetric("torch_peak_allocated_mib", "torch peak allocated MiB (this run)"),
    RunMetric("torch_peak_reserved_mib", "torch peak reserved MiB (this run)"),
    RunMetric("process_cpu_pct_mean", "process CPU % mean"),
    RunMetric("children_cpu_pct_mean", "worker processes CPU % mean"),
    RunMetric("system_cpu_pct_mean", "system CPU % mean"),
    RunMetric("process_rss_mib_peak", "RSS peak MiB"),
    RunMetric("input_stall_fraction", "input stall % of timed (GPU idle for data; CPU: host wait)", 100.0),
    RunMetric("input_wait_host_s", "host wait for data s", shown=False),
    RunMetric("comm_share", "communication share of a step %", 100.0),
)

#: Columns of the runs table that :mod:`benchsuite.results.frames` reads from every run (absent ones stay empty).
COLUMNS: list[str] = [m.column for m in PER_RUN]

#: Report's hardware table: column → (header, scale).
REPORT_TABLE: dict[str, tuple[str, float]] = {m.column: (m.header, m.scale) for m in PER_RUN if m.shown}

#: Clock-event (throttle) reasons (the names of :data:`benchsuite.telemetry.nvml.CLOCK_EVENT_REASONS`) that slow a
#: busy GPU below the clocks its figures assume: a power cap, thermal or hardware slowdown. Sync boost and display
#: clocks are left out.
SLOWDOWNS = ("sw_power_cap", "hw_slowdown", "sw_thermal_slowdown", "hw_thermal_slowdown", "hw_power_brake_slowdown")

#: Sampled metric → the label of its timeline panel.
TIMELINE: dict[str, str] = {m.name: m.timeline for m in SAMPLED if m.timeline}
