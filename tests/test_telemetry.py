"""Telemetry: the sampler with an injected fake NVML, the real no-driver path, energy and timelines by hand."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from benchsuite.telemetry import nvml as nvml_mod
from benchsuite.telemetry import sampler as sampler_mod
from benchsuite.telemetry import summary as summary_mod


class NVMLError(Exception):
    pass


class NVMLError_NotSupported(NVMLError):  # noqa: N801 - pynvml's names
    pass


class FakeNVML:
    """The pynvml calls benchsuite makes, with fixed raw NVML values (mW, mJ, bytes) and call counts."""

    NVMLError, NVMLError_NotSupported = NVMLError, NVMLError_NotSupported
    NVML_CLOCK_SM, NVML_TEMPERATURE_GPU = 1, 0

    def __init__(self, energy_supported=True):
        self.calls: dict[str, int] = {}
        self.energy_mj = 1_000_000
        self.energy_supported = energy_supported
        self.shutdown = False

    def _count(self, name):
        self.calls[name] = self.calls.get(name, 0) + 1

    def nvmlInit(self):
        self._count("init")

    def nvmlShutdown(self):
        self.shutdown = True

    def nvmlDeviceGetHandleByUUID(self, uuid):
        assert uuid == "GPU-1234"
        return "handle"

    def nvmlDeviceGetUtilizationRates(self, handle):
        self._count("utilisation")
        return SimpleNamespace(gpu=87, memory=40)

    def nvmlDeviceGetMemoryInfo(self, handle):
        return SimpleNamespace(used=3 * 2**30)

    def nvmlDeviceGetPowerUsage(self, handle):
        return 250_500  # mW

    def nvmlDeviceGetClockInfo(self, handle, clock):
        return 1980

    def nvmlDeviceGetTemperature(self, handle, sensor):
        return 61

    def nvmlDeviceGetCurrentClocksEventReasons(self, handle):
        self._count("reasons")
        raise NVMLError_NotSupported()

    def nvmlDeviceGetTotalEnergyConsumption(self, handle):
        if not self.energy_supported:
            raise NVMLError_NotSupported()
        self.energy_mj += 5_000
        return self.energy_mj


def test_probe_converts_units_and_drops_unsupported_metrics_once():
    nvml = FakeNVML()
    probe = nvml_mod.GpuProbe(nvml, "handle")
    first, second = probe.read(), probe.read()
    assert first == {
        "energy_counter_j": pytest.approx(1005.0),  # mJ → J: the counter, read with every sample
        "kernel_busy_pct": 87.0,
        "mem_busy_pct": 40.0,
        "mem_used_mib": 3072.0,
        "power_w": 250.5,
        "sm_clock_mhz": 1980.0,
        "temperature_c": 61.0,
    }
    assert second == {**first, "energy_counter_j": pytest.approx(1010.0)}
    assert nvml.calls["reasons"] == 1 and probe.dropped == ["clock_event_reasons"]  # not retried every tick
    assert nvml.calls["utilisation"] == 2  # once a sample for both kernel-busy and memory-busy


@pytest.fixture
def fake_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda device: SimpleNamespace(uuid="1234"))
    return torch.device("cuda", 0)


def test_sampler_with_fake_nvml(fake_cuda):
    nvml = FakeNVML()
    with sampler_mod.Sampler(fake_cuda, interval_s=0.01, nvml=nvml) as sampler:
        time.sleep(0.1)
    assert len(sampler.samples) >= 3 and nvml.shutdown
    assert sampler.samples[-1][1]["power_w"] == 250.5 and "process_cpu_pct" in sampler.samples[-1][1]
    start, end = sampler.samples[0][0], sampler.samples[-1][0]
    summary = summary_mod.run_summary(sampler, [(start, end)], until_s=None)
    assert summary["gpu_telemetry"] == "nvml" and summary["kernel_busy_pct_mean"] == 87.0
    assert summary["kernel_busy_pct_p95"] == 87.0 and summary["mem_used_mib_peak"] == 3072.0
    rise = sampler.samples[-1][1]["energy_counter_j"] - sampler.samples[0][1]["energy_counter_j"]
    assert summary["energy_method"] == "counter" and summary["energy_j"] == pytest.approx(rise) and rise > 0
    assert summary["energy_window_j"] > summary["energy_j"]  # the window's counter reads bracket every sample
    assert summary["dropped_metrics"] == ["clock_event_reasons"]


def test_energy_falls_back_to_integrated_power_and_says_so(fake_cuda):
    with sampler_mod.Sampler(fake_cuda, interval_s=0.01, nvml=FakeNVML(energy_supported=False)) as sampler:
        time.sleep(0.05)
    times, _ = sampler_mod.series(sampler.samples, "power_w")
    summary = summary_mod.run_summary(sampler, [(times[0], times[-1])], until_s=None)
    assert summary["energy_method"] == "integrated_power"
    assert summary["energy_j"] == pytest.approx(250.5 * (times[-1] - times[0]), abs=1e-3)  # rounded to mJ


def test_energy_is_of_the_timed_region_only_never_the_evaluation_between_its_segments():
    # the counter rises 100 J/s while training (0-1 s, 3-4 s) and 300 J/s during the evaluation between (1-3 s)
    sampler = sampler_mod.Sampler(torch.device("cpu"), interval_s=0.1)
    rise = {0.0: 0.0, 1.0: 100.0, 2.0: 400.0, 3.0: 700.0, 4.0: 800.0}
    sampler.samples = [(t, {"energy_counter_j": e, "power_w": 100.0}) for t, e in rise.items()]
    summary = summary_mod.run_summary(sampler, [(0.0, 1.0), (3.0, 4.0)], until_s=1.5)
    assert (summary["energy_j"], summary["energy_method"]) == (200.0, "counter")  # not the 800 J of the window
    assert summary["energy_to_target_j"] == 150.0  # 1 s of the first segment and 0.5 s of the second
    assert summary["energy_to_target_method"] == "energy counter over the timed region"
    for _, values in sampler.samples:  # without a counter: power integrated over the same intervals
        del values["energy_counter_j"]
    assert summary_mod.run_summary(sampler, [(0.0, 1.0), (3.0, 4.0)], until_s=None)["energy_j"] == 200.0


def test_clock_event_reasons_are_summarised_as_shares_of_the_timed_samples():
    sampler = sampler_mod.Sampler(torch.device("cpu"), interval_s=0.1)
    bits = [0x0, 0x4, 0x4 | 0x40, 0x1, 0x4]  # none, power cap, power cap + HW thermal, idle (not a slowdown), power cap
    sampler.samples = [(float(t), {"clock_event_reasons": float(b)}) for t, b in enumerate(bits)]
    summary = summary_mod.run_summary(sampler, [(0.0, 4.0)], until_s=None)
    assert summary["clock_event_shares"] == {"hw_thermal_slowdown": 0.2, "sw_power_cap": 0.6}
    sampler.samples = [(float(t), {"power_w": 100.0}) for t in range(5)]  # a board without the metric: nothing
    assert "clock_event_shares" not in summary_mod.run_summary(sampler, [(0.0, 4.0)], until_s=None)


def test_energy_over_timed_intervals_by_hand():
    times = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    power = np.array([100.0, 100.0, 200.0, 200.0, 200.0])
    # timed region: [0, 1] and [2, 4]; power 100 W then 200 W → 100 J + 400 J
    assert summary_mod.energy_over_intervals(times, power, [(0.0, 1.0), (2.0, 4.0)]) == pytest.approx(500.0)
    # to a target reached after 2 timed seconds: all of [0, 1] and [2, 3]
    assert summary_mod.energy_over_intervals(times, power, [(0.0, 1.0), (2.0, 4.0)], until_s=2.0) == pytest.approx(
        300.0
    )
    assert summary_mod.energy_over_intervals(times[:1], power[:1], [(0.0, 1.0)]) is None


def test_start_twice_is_refused_and_no_thread_is_left_behind():
    sampler = sampler_mod.Sampler(torch.device("cpu"), interval_s=0.01)
    with sampler:
        with pytest.raises(RuntimeError, match="already running"):
            sampler.__enter__()
    assert not sampler.running
    with sampler:  # a stopped sampler can run again
        time.sleep(0.03)
    assert not any(t.name == "benchsuite-telemetry" for t in threading.enumerate())


def test_no_driver_path_for_real_records_cpu_only():
    # This machine has nvidia-ml-py but no NVIDIA driver: nvmlInit raises NVMLError_LibraryNotFound.
    probe, reason = nvml_mod.open_gpu_probe(torch.device("cuda"))
    if probe is not None:
        pytest.skip("an NVIDIA driver is present")
    assert "NVML unavailable" in reason or "not installed" in reason
    with sampler_mod.Sampler(torch.device("cuda"), interval_s=0.01) as sampler:
        time.sleep(0.03)
    assert sampler.gpu is None
    assert set(sampler.samples[-1][1]) == {"process_cpu_pct", "process_rss_mib", "system_cpu_pct"}


def test_timeline_is_bounded_and_relative():
    samples = [(10.0 + i * 0.1, {"power_w": float(i)}) for i in range(1000)]
    timeline = sampler_mod.downsample(samples, start=10.0, max_points=50)
    assert len(timeline) == 50
    assert timeline[0] == {"t_s": 0.0, "power_w": 0.0} and timeline[-1]["power_w"] == 999.0
    assert len(sampler_mod.downsample(samples[:10], start=10.0, max_points=50)) == 10


def _tiny_run(**train):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from conftest import TINY, tiny_spec

    from benchsuite.scenario.matrix import expand_runs
    from benchsuite.specs.scenario import ScenarioSpec

    return expand_runs(ScenarioSpec.model_validate(tiny_spec(seeds=[0], matrix={}, train={**TINY["train"], **train})))[
        0
    ]


def test_a_run_reports_how_many_samples_fell_inside_its_timed_region():
    from benchsuite.training.run import train_run

    info = train_run(_tiny_run(), torch.device("cpu"), telemetry_interval_s=0.05).extra_info()
    # 8 steps of a tiny MLP take a few ms: hardly any sample falls inside, and the run says so instead of
    # summarising the samples of setup and evaluation as if they were training
    assert info["telemetry_samples"] >= 1 and info["telemetry_samples_timed"] < 3
    assert "fell inside the timed region" in info["telemetry_coverage"] and "process_cpu_pct_mean" not in info
    assert info["gpu_telemetry"] == "not a CUDA run" and info["timeline"][0]["t_s"] == 0.0
    off = train_run(_tiny_run(), torch.device("cpu"), telemetry_interval_s=None).extra_info()
    assert off["timeline"] == [] and "telemetry_samples" not in off


def test_min_timed_s_lengthens_the_window_without_touching_the_run():
    from benchsuite.training.run import train_run

    short = train_run(_tiny_run(), torch.device("cpu"), telemetry_interval_s=0.01).extra_info()
    long = train_run(_tiny_run(min_timed_s=0.3), torch.device("cpu"), telemetry_interval_s=0.01).extra_info()
    assert long["telemetry_window_s"] >= 0.3 and long["telemetry_samples_timed"] >= 3
    assert long["process_cpu_pct_mean"] >= 0 and "telemetry_coverage" not in long
    assert long["steps"] == short["steps"] == 8
    assert [p["val_loss"] for p in long["curve"]] == [p["val_loss"] for p in short["curve"]]
    assert long["timed_s"] < 0.3  # the run's own timed region is what it was


def test_samples_outside_the_timed_region_never_stand_in_for_it():
    sampler = sampler_mod.Sampler(torch.device("cpu"))
    sampler.samples = [(0.0, {"process_cpu_pct": 10.0}), (5.0, {"process_cpu_pct": 20.0})]
    summary = summary_mod.run_summary(sampler, [(1.0, 2.0)], until_s=None)
    assert summary["telemetry_samples_timed"] == 0 and "process_cpu_pct_mean" not in summary


def test_cpu_of_child_processes_is_measured():
    import subprocess
    import sys

    probe = sampler_mod.CpuProbe(children=True)
    probe.CHILD_REFRESH_S = 0.0
    child = subprocess.Popen(
        [sys.executable, "-c", "import time\nend = time.time() + 1.5\nwhile time.time() < end: pass"]
    )
    try:
        time.sleep(0.3)
        probe.read()  # primes the new child
        time.sleep(0.5)
        busy = probe.read()["children_cpu_pct"]
    finally:
        child.wait()
    assert busy > 20.0  # a spinning child uses most of a core (49.8 % once, with the 2 cores shared by 5 processes)
    assert probe.read()["children_cpu_pct"] == 0.0  # gone


class LegacyNVML(FakeNVML):
    """The legacy pynvml 11.x package: it shadows nvidia-ml-py and lacks the newer clock-event call."""

    def __getattribute__(self, name):
        if name == "nvmlDeviceGetCurrentClocksEventReasons":
            raise AttributeError(name)
        return super().__getattribute__(name)


def test_a_missing_nvml_function_drops_its_metric_not_the_run(fake_cuda):
    nvml = LegacyNVML()
    with sampler_mod.Sampler(fake_cuda, interval_s=0.01, nvml=nvml) as sampler:
        time.sleep(0.05)
    assert sampler.samples[-1][1]["power_w"] == 250.5 and nvml.shutdown
    assert sampler.gpu.reasons["clock_event_reasons"].startswith("AttributeError")


class NoHandleNVML(FakeNVML):
    def nvmlDeviceGetHandleByUUID(self, uuid):
        raise NVMLError("not found")

    def nvmlDeviceGetHandleByPciBusId(self, bus):
        raise NVMLError("no such bus")


def test_a_device_nvml_cannot_find_is_reported_and_nvml_shut_down(fake_cuda):
    nvml = NoHandleNVML()
    probe, reason = nvml_mod.open_gpu_probe(fake_cuda, nvml)
    assert probe is None and "NVML has no handle for cuda:0" in reason and nvml.shutdown


class MigNVML(FakeNVML):
    def nvmlDeviceGetHandleByUUID(self, uuid):
        if uuid != "MIG-1234":
            raise NVMLError("not a GPU UUID")
        return "mig-handle"

    def nvmlDeviceIsMigDeviceHandle(self, handle):
        return handle == "mig-handle"


def test_a_mig_slice_is_not_given_the_whole_boards_power(fake_cuda):
    with sampler_mod.Sampler(fake_cuda, interval_s=0.01, nvml=MigNVML()) as sampler:
        time.sleep(0.05)
    assert "power_w" not in sampler.samples[-1][1] and sampler.energy_start_j is None
    assert "MIG slice" in sampler.gpu.description and "whole board" in sampler.gpu.reasons["power_w"]


def test_nvml_is_shut_down_when_the_energy_read_fails(fake_cuda):
    class Broken(FakeNVML):
        def nvmlDeviceGetTotalEnergyConsumption(self, handle):
            raise RuntimeError("driver went away")

    nvml = Broken()
    with sampler_mod.Sampler(fake_cuda, interval_s=0.01, nvml=nvml) as sampler:
        time.sleep(0.02)
    assert nvml.shutdown and sampler.energy_start_j is None


def test_energy_needs_no_numpy_2(monkeypatch):
    monkeypatch.delattr(np, "trapezoid", raising=False)  # NumPy 1.x, which pyproject allows, has no np.trapezoid
    times, power = np.array([0.0, 1.0, 2.0]), np.array([100.0, 100.0, 100.0])
    assert summary_mod.energy_over_intervals(times, power, [(0.0, 2.0)]) == pytest.approx(200.0)


def test_a_session_whose_gpu_slowed_says_so_first():
    from benchsuite.report.overview import throttle_text as notice

    def run(shares):
        return {"extra_info": {"clock_event_shares": shares}}

    data = {"benchmarks": [run({"sw_power_cap": 0.6, "sync_boost": 1.0}), run({}), run({"hw_thermal_slowdown": 0.1})]}
    assert notice(data) == (
        "GPU clocks slowed in the timed region of 2 of 3 runs (sw_power_cap in up to 60%, hw_thermal_slowdown in up to "
        "10% of a run's samples)"
    )
    assert notice({"benchmarks": [run({"sync_boost": 1.0}), {"extra_info": {}}]}) is None  # no slowdown, no line
