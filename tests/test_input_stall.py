"""Input stall: the host clock on a CPU, CUDA events (faked here) on a GPU, read only after a synchronisation."""

from __future__ import annotations

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from benchsuite.telemetry import clock, input_stall
from benchsuite.telemetry.input_stall import InputStall
from benchsuite.training import batches as serving


class FakeGpu:
    """A GPU stream timeline: ``busy_until`` is when the queued work ends; events record the queue's tail."""

    def __init__(self) -> None:
        self.busy_until = 0.0
        self.synchronised = True
        self.syncs = 0

    def queue(self, host_now: float, seconds: float) -> None:
        self.busy_until = max(self.busy_until, host_now) + seconds
        self.synchronised = False

    def event(self):
        gpu = self

        class Event:
            def record(self):
                self.at = max(gpu.busy_until, host[0])  # an event completes when the stream reaches it
                gpu.busy_until = self.at
                gpu.synchronised = False

            def elapsed_time(self, other):
                assert gpu.synchronised, "events read before the device was synchronised"
                return (other.at - self.at) * 1000.0

        return Event()

    def synchronize(self, device):
        self.syncs += 1
        self.synchronised = True

    def copy_from_host(self, seconds: float, pinned: bool) -> None:
        """A host-to-device copy: from pinned memory with ``non_blocking`` it is queued like a kernel; from pageable
        memory CUDA stages it through a driver buffer and the host waits until the stream has run everything queued
        before it and the copy itself (``cudaMemcpyAsync`` then a stream synchronisation; "CUDA semantics: use
        pinned memory buffers", PyTorch documentation)."""
        self.queue(host[0], seconds)
        if not pinned:
            host[0] = self.busy_until


class CopiesOnFakeGpu(TorchDispatchMode):
    """Runs the real serving code on ``meta`` standing in for CUDA and plays each host-to-device copy it dispatches
    on ``gpu``'s timeline: ``pin_memory()`` is faked (a CPU-only build has no pinned memory) and a copy is
    non-blocking only from a tensor pinned so, with ``non_blocking=True``."""

    def __init__(self, gpu: FakeGpu, copy_s: float) -> None:
        super().__init__()
        self.gpu, self.copy_s, self.copies, self.pinned = gpu, copy_s, 0, []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        aten = torch.ops.aten
        if func is aten.is_pinned.default:
            return any(args[0] is t for t in self.pinned)
        if func is aten._pin_memory.default:
            self.pinned.append(args[0].clone())
            return self.pinned[-1]
        target = kwargs.get("device")
        if func is aten._to_copy.default and args[0].device.type == "cpu" and target is not None:
            if torch.device(target).type != "cpu":
                self.copies += 1
                pinned = bool(kwargs.get("non_blocking")) and any(args[0] is t for t in self.pinned)
                self.gpu.copy_from_host(self.copy_s, pinned)
        return func(*args, **kwargs)


host = [0.0]


@pytest.fixture
def gpu(monkeypatch):
    host[0] = 0.0
    fake = FakeGpu()
    monkeypatch.setattr(clock.time, "perf_counter", lambda: host[0])
    monkeypatch.setattr(input_stall, "synchronize", fake.synchronize)
    return fake


def _step(stall: InputStall, gpu: FakeGpu, host_wait_s: float, copy_s: float, step_s: float) -> None:
    """One step: wait for data on the host, queue its copy, then queue the step's kernels (host launch ~0 s)."""
    stall.wait_begins()
    host[0] += host_wait_s
    gpu.queue(host[0], copy_s)
    stall.wait_ends()
    gpu.queue(host[0], step_s)


def test_gpu_kept_busy_by_a_host_ahead_has_no_stall_although_the_host_waited(gpu):
    stall = InputStall(torch.device("cuda", 0), event_factory=gpu.event)
    for _ in range(10):
        _step(stall, gpu, host_wait_s=0.001, copy_s=0.0, step_s=0.010)  # host needs 1 ms per batch, GPU 10 ms per step
    stall.settle()
    assert stall.host_s == pytest.approx(0.010)
    assert stall.device_s == pytest.approx(0.001)  # only the very first wait, before any work was queued
    assert stall.figures(timed_s=0.1)["input_stall_clock"] == "cuda-events"


def test_a_slow_input_pipeline_starves_the_gpu_by_the_gap_plus_the_copy(gpu):
    stall = InputStall(torch.device("cuda", 0), event_factory=gpu.event)
    for _ in range(10):
        _step(stall, gpu, host_wait_s=0.020, copy_s=0.002, step_s=0.005)  # batch every 20 ms, step 5 ms
    stall.settle()
    # a batch every 20 ms; the GPU spends 2 ms copying and 5 ms stepping, then idles 13 ms: each wait costs it
    # 13 + 2 = 15 ms, the first one 20 + 2 ms (nothing was queued before it)
    assert stall.device_s == pytest.approx(0.022 + 9 * 0.015)
    figures = stall.figures(timed_s=0.25)
    assert figures["input_stall_s"] == stall.device_s and figures["input_wait_host_s"] == pytest.approx(0.2)


def test_events_are_read_only_at_settle_and_waits_never_synchronise(gpu):
    stall = InputStall(torch.device("cuda", 0), event_factory=gpu.event)
    for _ in range(50):
        _step(stall, gpu, host_wait_s=0.001, copy_s=0.0, step_s=0.001)
    assert gpu.syncs == 0 and stall.device_s == 0.0  # no per-step host sync
    stall.settle()
    assert gpu.syncs == 1 and stall.device_s > 0
    stall.settle()  # nothing pending: no second sync
    assert gpu.syncs == 1


def test_preloaded_batches_never_wait_for_the_gpu(gpu, monkeypatch):
    """The preloaded path on a GPU that is the bottleneck (10 ms a step, host launch ~0 s): the host must run ahead.
    A pageable host-to-device copy of each step's indices would make the host wait for the previous step, so the
    whole run would look like waiting for input (input_wait_host_s ≈ timed_s); one pinned, non-blocking copy per
    epoch never makes it wait."""
    stall = InputStall(torch.device("cuda", 0), event_factory=gpu.event)
    copies = CopiesOnFakeGpu(gpu, copy_s=0.0001)
    monkeypatch.setattr(serving, "PINNED_COPY_DEVICES", {"meta"})  # meta plays CUDA
    stream = serving.batches(64, 16, 40, torch.Generator().manual_seed(0), torch.device("meta"))  # 10 epochs of 4
    with copies:
        for _ in range(40):
            stall.wait_begins()
            next(stream)
            stall.wait_ends()
            gpu.queue(host[0], 0.010)
    stall.settle()
    timed_s = gpu.busy_until
    assert timed_s == pytest.approx(40 * 0.010 + copies.copies * 0.0001)
    assert stall.figures(timed_s)["input_wait_host_s"] == 0.0  # the host never waited for the GPU
    assert copies.copies <= 10  # once per epoch, not once per step


def test_on_a_cpu_the_stall_is_the_host_wait(gpu):
    stall = InputStall(torch.device("cpu"), event_factory=lambda: pytest.fail("no CUDA events on a CPU"))
    for _ in range(4):
        stall.wait_begins()
        host[0] += 0.5
        stall.wait_ends()
    stall.settle()
    assert stall.figures(timed_s=4.0) == {
        "input_stall_s": 2.0,
        "input_stall_fraction": 0.5,
        "input_wait_host_s": 2.0,
        "input_stall_clock": "host-clock",
    }


def test_unbalanced_and_dropped_waits():
    stall = InputStall(torch.device("cpu"))
    with pytest.raises(RuntimeError, match="without wait_begins"):
        stall.wait_ends()
    assert stall.figures(timed_s=0.0)["input_stall_fraction"] is None
