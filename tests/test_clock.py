"""The one clock: accumulation, misuse errors, and the training-only total that pytest-benchmark reads."""

from __future__ import annotations

import pytest
import torch

from benchsuite.telemetry import clock


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def fake_time(monkeypatch):
    fake = FakeTime()
    monkeypatch.setattr(clock.time, "perf_counter", fake)
    return fake


def test_stopwatch_accumulates_intervals(fake_time):
    watch = clock.Stopwatch(torch.device("cpu"))
    watch.start()
    fake_time.now += 2.0
    assert watch.stop() == 2.0
    fake_time.now += 50.0  # stopped: not counted
    with watch:
        fake_time.now += 0.5
    assert watch.elapsed_s == 2.5


def test_only_training_stopwatches_feed_the_benchmark_timer(fake_time):
    before = clock.timed_region_seconds()
    with clock.Stopwatch("cpu"):
        fake_time.now += 7.0
    with clock.Stopwatch("cpu", training=True):
        fake_time.now += 3.0
    assert clock.timed_region_seconds() - before == 3.0


def test_misuse_is_an_error():
    watch = clock.Stopwatch("cpu")
    with pytest.raises(RuntimeError, match="not running"):
        watch.stop()
    watch.start()
    with pytest.raises(RuntimeError, match="already running"):
        watch.start()


def test_cuda_is_synchronised_before_reads(monkeypatch):
    calls = []
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: calls.append(device))
    watch = clock.Stopwatch(torch.device("cuda", 0))
    watch.start()
    watch.stop()
    assert len(calls) == 2
    with clock.Stopwatch("cpu"):
        pass
    assert len(calls) == 2  # CPU never synchronises
