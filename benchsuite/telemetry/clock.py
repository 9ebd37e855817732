"""The one place that reads a clock of elapsed time: :func:`now` (``time.perf_counter``, monotonic) serves the
stopwatches of timed regions, the telemetry sampler's timestamps, the input stall's host wait and the rank pool's
deadlines alike. (Results files are stamped with the calendar date instead:
:func:`benchsuite.results.files.new_run_id`.)

:class:`Stopwatch` accumulates wall seconds over start/stop intervals and synchronises CUDA before every read,
so queued kernels are counted in the interval that launched them. Training code starts it before a segment of
steps and stops it only at evaluation boundaries: no per-step host synchronisation.

:func:`timed_region_seconds` is the timer that the pytest plugin hands to pytest-benchmark: a process-wide total
of seconds spent inside *training* timed regions. pytest-benchmark reads it before and after a run, so the figure
it stores is the timed training region only, without data loading, warm-up or evaluation.
"""

from __future__ import annotations

import time

import torch

_training_total_s = 0.0


def now() -> float:
    """Seconds on the monotonic high-resolution clock (``time.perf_counter``), shared by stopwatches and samplers."""
    return time.perf_counter()


def timed_region_seconds() -> float:
    """Seconds spent so far, in this process, inside stopwatches created with ``training=True`` (and timed regions
    of child processes handed over with :func:`add_timed_region`)."""
    return _training_total_s


def add_timed_region(seconds: float) -> None:
    """Count ``seconds`` of a timed training region measured by another process (the ranks of a data-parallel run,
    launched by torchrun) in :func:`timed_region_seconds`, so pytest-benchmark's figure stays the timed region."""
    global _training_total_s
    _training_total_s += seconds


def synchronize(device: torch.device) -> None:
    """Wait for queued work on ``device`` (a no-op on CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class Stopwatch:
    """Accumulating wall-clock stopwatch (``time.perf_counter``) that synchronises ``device`` before reads.

    Args:
        device: the device whose queued work belongs to the timed interval.
        training: add the intervals to :func:`timed_region_seconds` (only the training region does).
        barrier: called before reading the clock at start and at stop (data-parallel ranks: an interval then starts
            when every rank is ready and ends when the slowest is done).

    Raises:
        RuntimeError: ``start`` while running or ``stop`` while stopped.
    """

    def __init__(self, device: torch.device, *, training: bool = False, barrier=None) -> None:
        self.device = torch.device(device)
        self.training = training
        self.barrier = barrier
        self.elapsed_s = 0.0
        self.intervals: list[tuple[float, float]] = []
        """(start, end) clock readings of every closed interval, for aligning telemetry with the timed region."""
        self._started: float | None = None

    @property
    def running(self) -> bool:
        """Whether an interval is open."""
        return self._started is not None

    def start(self) -> None:
        """Open an interval (after synchronising, so earlier work is not counted)."""
        if self._started is not None:
            raise RuntimeError("stopwatch already running")
        synchronize(self.device)
        if self.barrier is not None:
            self.barrier()
        self._started = now()

    def stop(self) -> float:
        """Close the interval; return its length in seconds."""
        global _training_total_s
        if self._started is None:
            raise RuntimeError("stopwatch not running")
        synchronize(self.device)
        if self.barrier is not None:
            self.barrier()
        end = now()
        interval = end - self._started
        self.intervals.append((self._started, end))
        self._started = None
        self.elapsed_s += interval
        if self.training:
            _training_total_s += interval
        return interval

    def __enter__(self) -> Stopwatch:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
