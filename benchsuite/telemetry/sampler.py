"""Telemetry around a run: a background sampler of GPU metrics (NVML, :mod:`benchsuite.telemetry.nvml`) and CPU metrics
(psutil), and a bounded timeline. Per-run summaries and energy: :mod:`benchsuite.telemetry.summary`.

Without a driver (``NVMLError_LibraryNotFound``) the sampler records CPU metrics only, and says why. A GPU metric
that fails is dropped with its reason; NVML is shut down however the run ends.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from benchsuite.telemetry.clock import now
from benchsuite.telemetry.nvml import MIB, GpuProbe, open_gpu_probe

DEFAULT_INTERVAL_S = 0.1
MAX_TIMELINE_POINTS = 200


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
        try:
            self.cpu = CpuProbe(children=self.children)
            self.energy_start_j = self.gpu.energy_j() if self.gpu else None
        except BaseException:
            if self.gpu is not None:
                self.gpu.shutdown()
            raise
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="benchsuite-telemetry", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._thread = None
        try:
            self._sample()
            if self.gpu is not None:
                self.energy_end_j = self.gpu.energy_j()
        finally:
            if self.gpu is not None:
                self.gpu.shutdown()

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
    t, v = zip(*points, strict=True)
    return np.asarray(t), np.asarray(v, dtype=float)


def downsample(
    samples: list[tuple[float, dict[str, float]]], start: float, max_points: int = MAX_TIMELINE_POINTS
) -> list[dict[str, float]]:
    """At most ``max_points`` samples, evenly spaced, as dicts with ``t_s`` seconds since ``start``."""
    if len(samples) > max_points:
        keep = np.unique(np.linspace(0, len(samples) - 1, max_points).round().astype(int))
        samples = [samples[i] for i in keep]
    return [{"t_s": round(t - start, 4), **{k: round(v, 3) for k, v in values.items()}} for t, values in samples]
