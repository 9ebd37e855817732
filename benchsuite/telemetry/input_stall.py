"""Input stall: how long training waited for its next batch, measured where the waiting happens.

On a CPU the device is the host, so the stall is the host's wall time inside ``next()`` of the batch stream.

On CUDA the host's wait is the wrong figure: the host runs ahead of the GPU, so its time inside ``next()`` includes
kernel-launch back-pressure and the synchronising copies from pageable memory, and it misses copies from pinned memory
that run asynchronously. The figure that matters is how long the *GPU* sat idle for want of data. Two CUDA events
bracket every wait on the compute stream: one recorded after the previous step's work was queued, one after the
next batch's copies (or the gather of a preloaded batch) were queued. The GPU time between them is the time the
stream spent with nothing to run but the input: zero when the host kept ahead, the idle gap plus the copy when it did
not. Events are read only after the segment's synchronisation (the stopwatch stop), so there is no per-step host
sync. (CUDA semantics: ``torch.cuda.Event(enable_timing=True)``, ``Event.elapsed_time`` in milliseconds, both events
must have completed; https://pytorch.org/docs/stable/generated/torch.cuda.Event.html.)

The host wait is kept beside it on every device (``input_wait_host_s``), so a reader can tell launch back-pressure
from starvation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from benchsuite.telemetry.clock import now, synchronize

#: How the stall was measured, by device type: stored with every run as ``input_stall_clock``.
CLOCKS = {"cuda": "cuda-events", "cpu": "host-clock"}


def _timing_event() -> Any:
    return torch.cuda.Event(enable_timing=True)


class InputStall:
    """Accumulates the input stall of one run in seconds.

    Call :meth:`wait_begins` right before asking the stream for a batch and :meth:`wait_ends` right after, and
    :meth:`settle` at the end of each timed segment.

    Args:
        device: the training device; CUDA devices are measured with CUDA events, others with the host clock.
        event_factory: makes a timing event with ``record()`` and ``elapsed_time(other) -> ms`` (tests pass fakes;
            default ``torch.cuda.Event(enable_timing=True)``).
    """

    def __init__(self, device: torch.device, event_factory: Callable[[], Any] | None = None) -> None:
        self.device = torch.device(device)
        self.on_device = self.device.type == "cuda"
        self.clock = CLOCKS.get(self.device.type, "host-clock")
        self.host_s = 0.0
        """Host wall seconds inside the waits (every device)."""
        self.device_s = 0.0
        """GPU seconds between the two events of each wait (CUDA only; settled segments)."""
        self._event = event_factory or _timing_event
        self._pending: list[tuple[Any, Any]] = []
        self._began: tuple[float, Any] | None = None

    @property
    def stall_s(self) -> float:
        """The run's input stall in seconds: device-side on CUDA (settled segments), the host wait elsewhere."""
        return self.device_s if self.on_device else self.host_s

    def wait_begins(self) -> None:
        """Mark the start of a wait for data (after the previous step's work was queued)."""
        event = None
        if self.on_device:
            event = self._event()
            event.record()
        self._began = (now(), event)

    def wait_ends(self) -> None:
        """Mark the end of a wait: the batch (and its copies to the device) is queued.

        Raises:
            RuntimeError: without a :meth:`wait_begins` before it.
        """
        if self._began is None:
            raise RuntimeError("wait_ends() without wait_begins()")
        started, begin = self._began
        self._began = None
        self.host_s += now() - started
        if self.on_device:
            end = self._event()
            end.record()
            self._pending.append((begin, end))

    def settle(self) -> None:
        """Add the GPU gaps of the waits so far to :attr:`device_s`. Synchronises first (a no-op right after the
        stopwatch's stop, which has already synchronised), so every event has completed before it is read."""
        if not self._pending:
            return
        synchronize(self.device)
        self.device_s += sum(begin.elapsed_time(end) for begin, end in self._pending) / 1000.0
        self._pending.clear()

    def drop_unsettled(self) -> None:
        """Forget the waits not yet settled (after a fault that leaves the device unable to report them)."""
        self._pending.clear()
        self._began = None

    def figures(self, timed_s: float) -> dict[str, float | str | None]:
        """The run's input-stall figures: ``input_stall_s``, ``input_stall_fraction`` (of the timed training seconds),
        ``input_wait_host_s`` and ``input_stall_clock``."""
        return {
            "input_stall_s": self.stall_s,
            "input_stall_fraction": self.stall_s / timed_s if timed_s else None,
            "input_wait_host_s": self.host_s,
            "input_stall_clock": self.clock,
        }
