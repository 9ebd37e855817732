"""The API checks of ``benchsuite doctor`` (device, MFU peak, NVML) on a faked CUDA machine and on this CPU."""

from __future__ import annotations

import os
import sys
from types import SimpleNamespace

import pytest
import torch

from benchsuite.telemetry import gpu_checks, nvml_checks
from benchsuite.telemetry.checks import Check

H100 = "NVIDIA H100 80GB HBM3"


class NVMLError(Exception):
    pass


class NVMLError_NotSupported(NVMLError):  # noqa: N801 - pynvml's names
    pass


class FakeNVML:
    """Every pynvml call the API checks make, each working, with raw NVML units (mW, mJ, bytes, MHz); ``mig``: the
    device is a MIG slice (its handle is found by its MIG- UUID only)."""

    NVML_CLOCK_SM, NVML_TEMPERATURE_GPU, NVML_FEATURE_DISABLED, NVML_FEATURE_ENABLED = 1, 0, 0, 1

    def __init__(self, mig=False):
        self.mig, self.shutdown, self.inits = mig, False, 0
        self.energy_mj = 2_000_000
        self.bits = 0x1  # idle only
        self.pids = [os.getpid()]

    def nvmlInit(self):
        self.inits += 1

    def nvmlShutdown(self):
        self.shutdown = True

    def nvmlDeviceGetHandleByUUID(self, uuid):
        if uuid != ("MIG-1234" if self.mig else "GPU-1234"):
            raise NVMLError("Not Found")
        return "handle"

    def nvmlDeviceIsMigDeviceHandle(self, handle):
        return self.mig

    def nvmlDeviceGetUUID(self, handle):
        return "MIG-1234" if self.mig else "GPU-1234"

    def nvmlDeviceGetUtilizationRates(self, handle):
        return SimpleNamespace(gpu=0, memory=0)

    def nvmlDeviceGetMemoryInfo(self, handle):
        return SimpleNamespace(used=512 * 2**20)

    def nvmlDeviceGetPowerUsage(self, handle):
        return 72_500  # mW

    def nvmlDeviceGetClockInfo(self, handle, clock):
        return 345

    def nvmlDeviceGetTemperature(self, handle, sensor):
        return 31

    def nvmlDeviceGetCurrentClocksEventReasons(self, handle):
        return self.bits

    def nvmlDeviceGetTotalEnergyConsumption(self, handle):
        return self.energy_mj

    def nvmlDeviceGetPersistenceMode(self, handle):
        return self.NVML_FEATURE_ENABLED

    def nvmlDeviceGetApplicationsClock(self, handle, clock):
        return 1980

    def nvmlDeviceGetDefaultApplicationsClock(self, handle, clock):
        return 1980

    def nvmlDeviceGetComputeRunningProcesses(self, handle):
        return [SimpleNamespace(pid=pid, usedGpuMemory=2**30) for pid in self.pids]


class FakeClock:
    """``nvml_checks.now``: seconds that only :meth:`busy` advances."""

    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(nvml_checks, "now", fake)
    return fake


def busy_for(nvml, clock, joules=150.0, seconds=0.5):
    """A busy period that advances the fake clock and the fake energy counter."""

    def busy():
        clock.t += seconds
        nvml.energy_mj += int(joules * 1000)

    return busy


def fake_cuda(monkeypatch, name=H100, uuid="1234"):
    props = SimpleNamespace(name=name, uuid=uuid, major=9, minor=0, total_memory=80 * 2**30)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.version, "cuda", "12.8")
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda device=None: props)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: name)
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: None)
    return torch.device("cuda", 0)


def by_name(checks: list[Check]) -> dict[str, Check]:
    assert all(isinstance(c, Check) for c in checks)
    return {c.name: c for c in checks}


NAMES = ["device", "mfu_peak", "nvml_handle", "nvml_metrics", "nvml_energy_counter", "nvml_clock_events", "gpu_state"]


def run(monkeypatch, clock, nvml, name=H100):
    device = fake_cuda(monkeypatch, name=name)
    checks = gpu_checks.api_checks(device, nvml=nvml, busy=busy_for(nvml, clock))
    assert [c.name for c in checks] == NAMES
    assert nvml.shutdown and nvml.inits == 1  # opened once for every NVML check, always shut down
    return by_name(checks)


def test_an_h100_whose_every_call_works_is_all_ok(monkeypatch, clock):
    checks = run(monkeypatch, clock, FakeNVML())
    assert {n: c.status for n, c in checks.items()} == dict.fromkeys(NAMES, "ok")
    device = checks["device"].details
    assert device["name"] == H100 and device["compute_capability"] == "9.0" and device["memory_mib"] == 81920
    assert device["cuda_version"] == "12.8" and "81920 MiB" in checks["device"].text
    peak = checks["mfu_peak"]
    assert peak.details["family"] == "H100 SXM" and "H100 SXM" in peak.text
    assert peak.details["peak_tflops"] == {"fp32": 67.0, "tf32": 494.5, "bf16": 989.5, "fp16": 989.5}
    handle = checks["nvml_handle"].details
    assert handle["matched_by"] == "uuid" and handle["nvml_uuid"] == "GPU-1234" and handle["mig"] is False
    values = checks["nvml_metrics"].details["values"]
    assert values["power_w"] == 72.5 and values["mem_used_mib"] == 512.0 and values["energy_counter_j"] == 2000.0
    assert checks["nvml_metrics"].details["dropped"] == {}
    energy = checks["nvml_energy_counter"].details
    assert energy["joules"] == pytest.approx(150.0) and energy["seconds"] == pytest.approx(0.5)
    assert energy["mean_w"] == pytest.approx(300.0) and "300 W" in checks["nvml_energy_counter"].text
    assert checks["nvml_clock_events"].details == {"bits": 1, "hex": "0x1", "names": [], "idle": True}
    state = checks["gpu_state"]
    assert state.details["other_process_pids"] == [] and state.details["persistence_mode"] == "on"
    assert "clocks not locked" in state.text


def test_an_unknown_gpu_has_no_peak(monkeypatch, clock):
    checks = run(monkeypatch, clock, FakeNVML(), name="Tesla T4")
    assert checks["mfu_peak"].status == "warn" and "'Tesla T4' is not in the peak table" in checks["mfu_peak"].text
    assert checks["nvml_handle"].status == "ok"


def test_a_mig_slice_warns_on_its_handle_peak_power_and_energy(monkeypatch, clock):
    checks = run(monkeypatch, clock, FakeNVML(mig=True), name=f"{H100} MIG 1g.10gb")
    handle = checks["nvml_handle"]
    assert handle.status == "warn" and handle.details["mig"] is True and "whole board" in handle.text
    assert checks["mfu_peak"].status == "warn" and "MIG slice" in checks["mfu_peak"].text
    assert checks["nvml_metrics"].status == "warn" and "power_w" in checks["nvml_metrics"].details["dropped"]
    assert checks["nvml_energy_counter"].status == "warn" and "MIG slice" in checks["nvml_energy_counter"].text


def test_no_energy_counter_warns_that_power_is_integrated(monkeypatch, clock):
    nvml = FakeNVML()

    def unsupported(handle):
        raise NVMLError_NotSupported("Not Supported")

    nvml.nvmlDeviceGetTotalEnergyConsumption = unsupported
    energy = run(monkeypatch, clock, nvml)["nvml_energy_counter"]
    assert energy.status == "warn" and "NVMLError_NotSupported: Not Supported" in energy.text
    assert "integrated" in energy.text


def test_a_counter_that_does_not_rise_warns(monkeypatch, clock):
    nvml = FakeNVML()
    device = fake_cuda(monkeypatch)
    checks = by_name(gpu_checks.api_checks(device, nvml=nvml, busy=busy_for(nvml, clock, joules=0)))
    assert checks["nvml_energy_counter"].status == "warn" and "did not rise" in checks["nvml_energy_counter"].text


def test_a_dropped_metric_is_named(monkeypatch, clock):
    nvml = FakeNVML()

    def unsupported(handle, sensor):
        raise NVMLError_NotSupported("Not Supported")

    nvml.nvmlDeviceGetTemperature = unsupported
    metrics = run(monkeypatch, clock, nvml)["nvml_metrics"]
    assert metrics.status == "warn" and "temperature_c (NVMLError_NotSupported: Not Supported)" in metrics.text
    assert list(metrics.details["dropped"]) == ["temperature_c"] and "temperature_c" not in metrics.details["values"]


def test_a_power_cap_while_idle_warns(monkeypatch, clock):
    nvml = FakeNVML()
    nvml.bits = 0x1 | 0x4
    events = run(monkeypatch, clock, nvml)["nvml_clock_events"]
    assert events.status == "warn" and "sw_power_cap" in events.text and events.details["names"] == ["sw_power_cap"]


class LegacyNVML(FakeNVML):
    """The legacy pynvml 11.x package: it shadows nvidia-ml-py and lacks the newer clock-event call."""

    def __getattribute__(self, name):
        if name == "nvmlDeviceGetCurrentClocksEventReasons":
            raise AttributeError(name)
        return super().__getattribute__(name)


def test_unsupported_clock_events_warn_that_throttling_is_not_summarised(monkeypatch, clock):
    checks = run(monkeypatch, clock, LegacyNVML())
    events = checks["nvml_clock_events"]
    assert events.status == "warn" and "AttributeError" in events.text and "not be summarised" in events.text
    assert checks["gpu_state"].status == "ok"  # clocks_locked still read from the application clocks


def test_another_compute_process_warns_with_its_pid(monkeypatch, clock):
    nvml = FakeNVML()
    nvml.pids = [os.getpid(), 4242]
    state = run(monkeypatch, clock, nvml)["gpu_state"]
    assert (
        state.status == "warn"
        and "1 other compute process on the GPU (pid 4242)" in state.text
        and state.details["other_process_pids"] == [4242]
    )


def test_persistence_mode_off_or_an_unread_field_warns(monkeypatch, clock):
    nvml = FakeNVML()
    nvml.nvmlDeviceGetPersistenceMode = lambda handle: nvml.NVML_FEATURE_DISABLED
    state = run(monkeypatch, clock, nvml)["gpu_state"]
    assert state.status == "warn" and "persistence mode off" in state.text

    def no_permission(handle):
        raise NVMLError("Insufficient Permissions")

    nvml = FakeNVML()
    nvml.nvmlDeviceGetComputeRunningProcesses = no_permission
    state = run(monkeypatch, clock, nvml)["gpu_state"]
    assert state.status == "warn" and "other_process_pids (NVMLError: Insufficient Permissions)" in state.text


def test_locked_clocks_are_said_and_ok(monkeypatch, clock):
    nvml = FakeNVML()
    nvml.nvmlDeviceGetApplicationsClock = lambda handle, clock: 1410
    state = run(monkeypatch, clock, nvml)["gpu_state"]
    assert state.status == "ok" and "clocks locked (SM application clock 1410 MHz, default 1980 MHz)" in state.text


def test_a_handle_found_by_pci_bus_id_says_so(monkeypatch, clock):
    nvml = FakeNVML()

    def not_found(uuid):
        raise NVMLError("Not Found")

    nvml.nvmlDeviceGetHandleByUUID = not_found
    nvml.nvmlDeviceGetHandleByPciBusId = lambda bus: "handle"
    nvml.nvmlDeviceGetUUID = lambda handle: b"GPU-5678"
    handle = run(monkeypatch, clock, nvml)["nvml_handle"]
    assert handle.status == "ok" and handle.details["matched_by"] == "pci_bus_id" and "PCI bus id" in handle.text


def nvml_statuses(checks):
    return {n: (c.status, c.details.get("reason")) for n, c in checks.items() if n in nvml_checks.NVML_CHECKS}


def test_without_nvidia_ml_py_every_nvml_check_warns_with_the_reason(monkeypatch, clock):
    monkeypatch.setitem(sys.modules, "pynvml", None)  # import pynvml now raises ImportError
    checks = by_name(gpu_checks.api_checks(fake_cuda(monkeypatch)))
    reason = "nvidia-ml-py is not installed"
    assert nvml_statuses(checks) == dict.fromkeys(nvml_checks.NVML_CHECKS, ("warn", reason))
    assert all(checks[n].text.startswith(reason) for n in nvml_checks.NVML_CHECKS)
    assert checks["device"].status == "ok" and checks["mfu_peak"].status == "ok"


def test_a_missing_driver_library_fails_every_nvml_check(monkeypatch, clock):
    class NoDriver(FakeNVML):
        def nvmlInit(self):
            raise NVMLError("NVML Shared Library Not Found")

    checks = by_name(gpu_checks.api_checks(fake_cuda(monkeypatch), nvml=NoDriver()))
    reason = "NVML unavailable: NVML Shared Library Not Found"
    assert nvml_statuses(checks) == dict.fromkeys(nvml_checks.NVML_CHECKS, ("fail", reason))


def test_no_handle_for_the_device_fails_and_shuts_nvml_down(monkeypatch, clock):
    class Elsewhere(FakeNVML):
        def nvmlDeviceGetHandleByUUID(self, uuid):
            raise NVMLError("Not Found")

        def nvmlDeviceGetHandleByPciBusId(self, bus):
            raise NVMLError("Not Found")

    nvml = Elsewhere()
    checks = by_name(gpu_checks.api_checks(fake_cuda(monkeypatch), nvml=nvml))
    assert {c.status for n, c in checks.items() if n in nvml_checks.NVML_CHECKS} == {"fail"}
    assert "NVML has no handle for cuda:0" in checks["nvml_handle"].text and nvml.shutdown


def test_a_check_that_raises_fails_alone_and_nvml_is_still_shut_down(monkeypatch, clock):
    def broken(nvml, handle):
        raise RuntimeError("driver went away")

    monkeypatch.setattr(nvml_checks, "device_state", broken)
    checks = run(monkeypatch, clock, FakeNVML())
    assert checks["gpu_state"].status == "fail" and "RuntimeError: driver went away" in checks["gpu_state"].text
    assert checks["nvml_energy_counter"].status == "ok"


def test_a_busy_period_that_raises_fails_the_energy_check(monkeypatch, clock):
    def busy():
        raise RuntimeError("CUDA error: an illegal memory access was encountered")

    nvml = FakeNVML()
    checks = by_name(gpu_checks.api_checks(fake_cuda(monkeypatch), nvml=nvml, busy=busy))
    energy = checks["nvml_energy_counter"]
    assert energy.status == "fail" and "RuntimeError: CUDA error" in energy.text and nvml.shutdown


def test_on_a_cpu_the_device_is_ok_and_every_cuda_check_skipped():
    nvml = FakeNVML()
    checks = by_name(gpu_checks.api_checks(torch.device("cpu"), nvml=nvml))
    assert list(checks) == NAMES
    cpu = checks["device"]
    assert cpu.status == "ok" and cpu.details["torch_threads"] == torch.get_num_threads() and cpu.details["name"]
    assert {n: c.status for n, c in checks.items() if n != "device"} == dict.fromkeys(NAMES[1:], "skipped")
    assert checks["mfu_peak"].text == "no peak table for CPUs: achieved FLOP/s only"
    assert nvml.inits == 0 and not nvml.shutdown  # never opened


def test_a_cpu_only_torch_asked_for_cuda_fails_the_device_check(monkeypatch):
    monkeypatch.setattr(torch.version, "cuda", None)
    monkeypatch.setattr(torch.version, "hip", None, raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    nvml = FakeNVML()
    checks = by_name(gpu_checks.api_checks(torch.device("cuda"), nvml=nvml))
    assert checks["device"].status == "fail" and "this torch build has no CUDA" in checks["device"].text
    assert {n: c.status for n, c in checks.items() if n != "device"} == dict.fromkeys(NAMES[1:], "skipped")
    assert "this torch build has no CUDA" in checks["nvml_handle"].text and nvml.inits == 0


def test_the_default_busy_period_lasts_about_as_asked():
    start = nvml_checks.now()
    nvml_checks.default_busy(torch.device("cpu"), seconds=0.05, size=32)
    assert 0.05 <= nvml_checks.now() - start < 2.0


def test_every_record_is_json_data(monkeypatch, clock):
    import json

    for nvml in (FakeNVML(), FakeNVML(mig=True), LegacyNVML()):
        checks = run(monkeypatch, clock, nvml)
        assert json.loads(json.dumps([c.as_dict() for c in checks.values()]))
