"""Telemetry around a run: a background sampler of GPU metrics (NVML, through nvidia-ml-py) and CPU metrics
(psutil), with summaries, a bounded timeline and energy.

NVML units (NVML API reference): power in mW, total energy in mJ, memory in bytes, clocks in MHz. NVML's "GPU
utilisation" is the share of time *a kernel was running*, not SM occupancy: it is reported as kernel-busy %.
Without a driver (``NVMLError_LibraryNotFound``) the sampler records CPU metrics only, silently. A metric a device
does not support is dropped after its first ``NVMLError_NotSupported``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Callable

import numpy as np
import torch

from benchsuite.clock import now

DEFAULT_INTERVAL_S = 0.1
MAX_TIMELINE_POINTS = 200
MIB = 2**20


def _nvml_readers(nvml: Any, handle: Any) -> dict[str, Callable[[], float]]:
    """Metric name (with unit) → reader, for one NVML device handle."""
    return {
        "kernel_busy_pct": lambda: float(nvml.nvmlDeviceGetUtilizationRates(handle).gpu),
        "mem_busy_pct": lambda: float(nvml.nvmlDeviceGetUtilizationRates(handle).memory),
        "mem_used_mib": lambda: nvml.nvmlDeviceGetMemoryInfo(handle).used / MIB,
        "power_w": lambda: nvml.nvmlDeviceGetPowerUsage(handle) / 1000.0,
        "sm_clock_mhz": lambda: float(nvml.nvmlDeviceGetClockInfo(handle, nvml.NVML_CLOCK_SM)),
        "temperature_c": lambda: float(nvml.nvmlDeviceGetTemperature(handle, nvml.NVML_TEMPERATURE_GPU)),
        "clock_event_reasons": lambda: float(nvml.nvmlDeviceGetCurrentClocksEventReasons(handle)),
    }


class GpuProbe:
    """Reads one GPU's metrics through NVML; drops a metric after its first NotSupported.

    Args:
        nvml: the ``pynvml`` module (or a fake with the same names, for tests).
        handle: the NVML device handle.
    """

    def __init__(self, nvml: Any, handle: Any) -> None:
        self.nvml, self.handle = nvml, handle
        self.readers = _nvml_readers(nvml, handle)
        self.dropped: list[str] = []
        self.energy_supported = True

    def read(self) -> dict[str, float]:
        out = {}
        for name, reader in list(self.readers.items()):
            try:
                out[name] = reader()
            except self.nvml.NVMLError:  # NotSupported (or FunctionNotFound on older drivers): never retried
                del self.readers[name]
                self.dropped.append(name)
        return out

    def energy_j(self) -> float | None:
        """Total energy counter in J (NVML gives mJ), or None where the GPU has none."""
        if not self.energy_supported:
            return None
        try:
            return self.nvml.nvmlDeviceGetTotalEnergyConsumption(self.handle) / 1000.0
        except self.nvml.NVMLError_NotSupported:
            self.energy_supported = False
            return None


def open_gpu_probe(device: torch.device, nvml: Any = None) -> tuple[GpuProbe | None, str | None]:
    """An NVML probe for the torch CUDA ``device``, matched by UUID (else PCI bus id), not by index.

    Returns:
        (probe, None), or (None, reason) when there is no GPU, no driver or no nvidia-ml-py.
    """
    if device.type != "cuda":
        return None, "not a CUDA run"
    try:
        nvml = nvml or __import__("pynvml")
        nvml.nvmlInit()
    except ImportError:
        return None, "nvidia-ml-py is not installed"
    except Exception as exc:  # NVMLError_LibraryNotFound, DriverNotLoaded, ...: no GPU telemetry, CPU goes on
        return None, f"NVML unavailable: {exc}"
    props = torch.cuda.get_device_properties(device)
    uuid = getattr(props, "uuid", None)
    try:
        handle = nvml.nvmlDeviceGetHandleByUUID(f"GPU-{uuid}")
    except Exception:
        bus = f"{getattr(props, 'pci_domain_id', 0):08x}:{getattr(props, 'pci_bus_id', 0):02x}:"
        handle = nvml.nvmlDeviceGetHandleByPciBusId(f"{bus}{getattr(props, 'pci_device_id', 0):02x}.0")
    return GpuProbe(nvml, handle), None


class CpuProbe:
    """Process CPU % (of one core), process RSS (MiB) and system CPU % through psutil; with ``children``, also the
    summed CPU % of child processes (DataLoader workers).

    Listing children scans every process (about 2 ms), so it is done only when asked and at most every
    ``CHILD_REFRESH_S``; the known children's CPU is read every sample.
    """

    CHILD_REFRESH_S = 1.0

    def __init__(self, children: bool = False) -> None:
        import psutil

        self.psutil = psutil
        self.process = psutil.Process()
        self.process.cpu_percent(None)  # the first call only sets the reference point
        psutil.cpu_percent(None)
        self.track_children = children
        self.children: dict[int, Any] = {}
        self._listed_at = -float("inf")

    def read(self) -> dict[str, float]:
        out = {
            "process_cpu_pct": self.process.cpu_percent(None),
            "process_rss_mib": self.process.memory_info().rss / MIB,
            "system_cpu_pct": self.psutil.cpu_percent(None),
        }
        if self.track_children:
            out["children_cpu_pct"] = self._children_cpu_pct()
        return out

    def _children_cpu_pct(self) -> float:
        """Summed CPU % of known live children; a newly listed child is primed and counts from the next sample
        (psutil's cpu_percent needs a reference point per process)."""
        if now() - self._listed_at >= self.CHILD_REFRESH_S:
            self._listed_at = now()
            for child in self.process.children(recursive=True):
                if child.pid not in self.children:
                    self.children[child.pid] = child
                    child.cpu_percent(None)
        total = 0.0
        for pid, child in list(self.children.items()):
            try:
                total += child.cpu_percent(None)
            except self.psutil.Error:  # the child has exited
                del self.children[pid]
        return total


@dataclass
class Sampler:
    """Background sampler used as a context manager around a run.

    Attributes:
        device: the run's device; NVML is used only for CUDA devices.
        interval_s: seconds between samples (default 0.1 s).
        nvml: injectable pynvml module (tests); None imports the real one.
        children: also sample child processes' CPU (DataLoader workers).
        samples: (clock time, metrics) pairs, in order.

    Raises:
        RuntimeError: entering a sampler that is already running.
    """

    device: torch.device
    interval_s: float = DEFAULT_INTERVAL_S
    nvml: Any = None
    children: bool = False
    """Also sample the CPU of child processes (for DataLoader workers)."""
    samples: list[tuple[float, dict[str, float]]] = field(default_factory=list)
    gpu_unavailable: str | None = None
    energy_start_j: float | None = None
    energy_end_j: float | None = None

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.gpu: GpuProbe | None = None

    def __enter__(self) -> Sampler:
        if self._thread is not None:
            raise RuntimeError("sampler already running")
        self.gpu, self.gpu_unavailable = open_gpu_probe(torch.device(self.device), self.nvml)
        self.cpu = CpuProbe(children=self.children)
        self.energy_start_j = self.gpu.energy_j() if self.gpu else None
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="benchsuite-telemetry", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._thread = None
        self._sample()
        if self.gpu is not None:
            self.energy_end_j = self.gpu.energy_j()
            self.gpu.nvml.nvmlShutdown()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._sample()

    def _sample(self) -> None:
        values = self.cpu.read()
        if self.gpu is not None:
            values.update(self.gpu.read())
        self.samples.append((now(), values))

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()


def series(samples: list[tuple[float, dict[str, float]]], metric: str) -> tuple[np.ndarray, np.ndarray]:
    """Times and values of ``metric`` over the samples that have it."""
    points = [(t, v[metric]) for t, v in samples if metric in v]
    if not points:
        return np.empty(0), np.empty(0)
    t, v = zip(*points)
    return np.asarray(t), np.asarray(v, dtype=float)


def downsample(samples: list[tuple[float, dict[str, float]]], start: float, max_points: int = MAX_TIMELINE_POINTS) -> list[dict[str, float]]:
    """At most ``max_points`` samples, evenly spaced, as dicts with ``t_s`` seconds since ``start``."""
    if len(samples) > max_points:
        keep = np.unique(np.linspace(0, len(samples) - 1, max_points).round().astype(int))
        samples = [samples[i] for i in keep]
    return [{"t_s": round(t - start, 4), **{k: round(v, 3) for k, v in values.items()}} for t, values in samples]


def energy_over_intervals(times: np.ndarray, power_w: np.ndarray, intervals: list[tuple[float, float]], until_s: float | None = None) -> float | None:
    """Energy (J) = ∫ power dt over the clock ``intervals`` (the timed region), stopping after ``until_s`` timed
    seconds; power is interpolated linearly between samples. None without at least two power samples."""
    if len(times) < 2:
        return None
    total, timed = 0.0, 0.0
    for start, end in intervals:
        if until_s is not None:
            end = min(end, start + max(0.0, until_s - timed))
        if end > start:
            grid = np.linspace(start, end, 64)
            total += float(np.trapezoid(np.interp(grid, times, power_w), grid))
            timed += end - start
    return total


def _in_intervals(samples, intervals):
    inside = [(t, v) for t, v in samples if any(a <= t <= b for a, b in intervals)]
    return inside or samples


def run_summary(sampler: Sampler, intervals: list[tuple[float, float]], until_s: float | None) -> dict[str, Any]:
    """Per-run telemetry figures, over the samples taken inside the timed ``intervals``.

    Energy: the NVML energy counter difference over the whole sampled run when the GPU has one
    (``energy_method: counter``), else power integrated over the samples (``integrated_power``). Energy-to-target
    integrates power over the timed region up to ``until_s`` timed seconds (the time-to-target).
    """
    timed = _in_intervals(sampler.samples, intervals)
    out: dict[str, Any] = {"telemetry_samples": len(sampler.samples), "telemetry_interval_s": sampler.interval_s,
                           "gpu_telemetry": "nvml" if sampler.gpu else sampler.gpu_unavailable}  # fmt: skip
    stats = {"kernel_busy_pct": ("mean", "p95"), "mem_busy_pct": ("mean",), "power_w": ("mean",),
             "mem_used_mib": ("peak",), "sm_clock_mhz": ("mean",), "temperature_c": ("peak",),
             "process_cpu_pct": ("mean",), "children_cpu_pct": ("mean",), "system_cpu_pct": ("mean",),
             "process_rss_mib": ("peak",)}  # fmt: skip
    for metric, kinds in stats.items():
        _, values = series(timed, metric)
        if len(values):
            fns = {"mean": np.mean, "p95": lambda v: np.percentile(v, 95), "peak": np.max}
            out.update({f"{metric}_{kind}": round(float(fns[kind](values)), 3) for kind in kinds})
    out.update(_energy(sampler, intervals, until_s))
    out["dropped_metrics"] = list(sampler.gpu.dropped) if sampler.gpu else []
    return out


def _energy(sampler: Sampler, intervals, until_s) -> dict[str, Any]:
    times, power = series(sampler.samples, "power_w")
    if sampler.energy_start_j is not None and sampler.energy_end_j is not None:
        energy, method = sampler.energy_end_j - sampler.energy_start_j, "counter"
    else:
        energy, method = energy_over_intervals(times, power, [(times[0], times[-1])] if len(times) else []), "integrated_power"
    if energy is None:
        return {"energy_j": None, "energy_method": None, "energy_to_target_j": None}
    to_target = energy_over_intervals(times, power, intervals, until_s) if until_s is not None else None
    return {"energy_j": round(energy, 3), "energy_method": method,
            "energy_to_target_j": None if to_target is None else round(to_target, 3)}  # fmt: skip
