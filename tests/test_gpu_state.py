"""GPU machine state at session start (persistence mode, clocks, other compute processes) through a fake NVML, and
the report's notice about it."""

from __future__ import annotations

from types import SimpleNamespace

import torch

from benchsuite.report import overview
from benchsuite.telemetry import hardware
from benchsuite.telemetry import nvml as nvml_mod


class NVMLError_NotSupported(Exception):  # noqa: N801 - pynvml's names
    pass


class FakeNVML:
    """The pynvml calls :func:`benchsuite.telemetry.nvml.read_gpu_state` makes: persistence off, default application
    clocks, one other compute process besides this one (``supported=False``: every state call raises NotSupported)."""

    NVML_CLOCK_SM, NVML_FEATURE_DISABLED, NVML_FEATURE_ENABLED = 1, 0, 1

    def __init__(self, supported=True, own_pid=None):
        self.supported, self.own_pid, self.shutdown = supported, own_pid, False

    def _check(self):
        if not self.supported:
            raise NVMLError_NotSupported("Not Supported")

    def nvmlInit(self):
        pass

    def nvmlShutdown(self):
        self.shutdown = True

    def nvmlDeviceGetHandleByUUID(self, uuid):
        assert uuid == "GPU-1234"
        return "handle"

    def nvmlDeviceIsMigDeviceHandle(self, handle):
        return False

    def nvmlDeviceGetPersistenceMode(self, handle):
        self._check()
        return self.NVML_FEATURE_DISABLED

    def nvmlDeviceGetApplicationsClock(self, handle, clock):
        self._check()
        return 1755

    def nvmlDeviceGetDefaultApplicationsClock(self, handle, clock):
        self._check()
        return 1755

    def nvmlDeviceGetCurrentClocksEventReasons(self, handle):
        self._check()
        return 0x1  # idle only

    def nvmlDeviceGetComputeRunningProcesses(self, handle):
        self._check()
        return [SimpleNamespace(pid=self.own_pid, usedGpuMemory=2**30), SimpleNamespace(pid=4242, usedGpuMemory=2**31)]


def used(monkeypatch):
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda index: SimpleNamespace(uuid="1234"))
    return [{"index": 0, "name": "NVIDIA H100 80GB HBM3", "uuid": "1234"}]


def test_state_of_a_gpu_with_persistence_off_one_other_process_and_default_clocks(monkeypatch):
    import os

    nvml = FakeNVML(own_pid=os.getpid())
    [state] = hardware.gpu_state(used(monkeypatch), nvml)
    assert state == {
        "name": "NVIDIA H100 80GB HBM3",
        "index": 0,
        "persistence_mode": "off",
        "app_clock_sm_mhz": 1755,
        "default_app_clock_sm_mhz": 1755,
        "clocks_locked": False,
        "other_process_count": 1,  # this process is not counted
        "other_process_pids": [4242],
        "unread": {},
    }
    assert nvml.shutdown


def test_unsupported_state_calls_record_none_with_the_reason_and_never_fail(monkeypatch):
    nvml = FakeNVML(supported=False)
    [state] = hardware.gpu_state(used(monkeypatch), nvml)
    fields = nvml_mod.GPU_STATE_FIELDS
    assert len(fields) == 6 and all(state[f] is None for f in fields)
    assert sorted(state["unread"]) == sorted(fields)
    assert all("NVMLError_NotSupported: Not Supported" in state["unread"][f] for f in fields)
    assert nvml.shutdown


def test_state_calls_missing_from_an_old_pynvml_record_none(monkeypatch):
    class Legacy:  # pynvml 11.x-like: init and handles, none of the state functions
        NVML_CLOCK_SM = 1
        nvmlInit = nvmlShutdown = staticmethod(lambda: None)
        nvmlDeviceGetHandleByUUID = staticmethod(lambda uuid: "handle")
        nvmlDeviceIsMigDeviceHandle = staticmethod(lambda handle: False)

    [state] = hardware.gpu_state(used(monkeypatch), Legacy())
    assert state["persistence_mode"] is None and state["unread"]["persistence_mode"].startswith("AttributeError")


def results(gpu_state=None):
    machine = {"device": "cuda:0", "gpu": {"count": 1}}
    if gpu_state is not None:
        machine["gpu_state"] = gpu_state
    return {"machine_info": {"benchsuite": machine}, "benchmarks": []}


def test_notice_names_other_processes_persistence_off_and_unlocked_clocks():
    state = {
        "index": 0,
        "name": "NVIDIA H100 80GB HBM3",
        "persistence_mode": "off",
        "app_clock_sm_mhz": 1755,
        "default_app_clock_sm_mhz": 1755,
        "clocks_locked": False,
        "other_process_count": 2,
        "other_process_pids": [123, 456],
        "unread": {},
    }
    line = (
        "GPU 0 (NVIDIA H100 80GB HBM3): 2 other compute processes were running (pids 123, 456); persistence mode off; "
        "clocks not locked"
    )
    assert overview.gpu_state_text(results([state])) == line
    assert line in overview.notices(results([state]))
    assert f"{line}." in overview.markdown_summary(results([state]))
    calm = {**state, "persistence_mode": "on", "other_process_count": 0, "other_process_pids": []}
    assert overview.gpu_state_text(results([calm])) == "GPU clocks not locked"
    assert overview.gpu_state_text(results([{**calm, "clocks_locked": True}])) is None


def test_no_notice_for_an_old_file_or_unreadable_state():
    assert overview.gpu_state_text(results()) is None and overview.gpu_state_text({}) is None
    assert overview.notices(results()) == []
    unreadable = {"index": 0, "persistence_mode": None, "clocks_locked": None, "other_process_count": None}
    assert overview.gpu_state_text(results([unreadable])) is None


def test_clocks_count_as_locked_when_app_clocks_differ_from_default_or_the_reason_bit_is_set(monkeypatch):

    raised = FakeNVML()
    raised.nvmlDeviceGetApplicationsClock = lambda handle, clock: 1410
    assert nvml_mod.device_state(raised, "handle")["clocks_locked"] is True
    bit = FakeNVML()
    bit.nvmlDeviceGetCurrentClocksEventReasons = lambda handle: 0x2
    assert nvml_mod.device_state(bit, "handle")["clocks_locked"] is True


def test_a_cuda_session_records_the_gpu_state_and_its_report_warns(monkeypatch):
    """End to end on a faked CUDA machine: the session's hardware record (what pytest-benchmark's ``machine_info``
    gets) carries each used GPU's state read through NVML, the machine id names the GPU, and the report built from
    that record gives the notice."""
    import os
    import sys

    from benchsuite.machine_info import SessionMachine

    props = SimpleNamespace(name="NVIDIA H100 80GB HBM3", total_memory=80 * 2**30, major=9, minor=0, uuid="1234")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda index: props)
    monkeypatch.setattr(torch.backends.cudnn, "version", lambda: 91002)
    nvml = FakeNVML(own_pid=os.getpid())
    nvml.nvmlSystemGetDriverVersion = lambda: "580.65"
    monkeypatch.setitem(sys.modules, "pynvml", nvml)

    machine_info: dict = {}
    SessionMachine(torch.device("cuda")).update(machine_info)
    record = machine_info["benchsuite"]
    assert record["machine_id"] == "nvidia-h100-80gb-hbm3-x1"
    assert record["gpu"]["driver_version"] == "580.65" and record["gpu"]["count_used"] == 1
    [state] = record["gpu_state"]
    assert state["persistence_mode"] == "off" and state["other_process_pids"] == [4242] and not state["unread"]
    line = overview.gpu_state_text({"machine_info": machine_info, "benchmarks": []})
    assert line == (
        "GPU 0 (NVIDIA H100 80GB HBM3): 1 other compute process was running (pid 4242); persistence mode off; "
        "clocks not locked"
    )


def test_a_cpu_session_records_no_gpu_state():
    from benchsuite.machine_info import SessionMachine

    machine_info: dict = {}
    SessionMachine(torch.device("cpu")).update(machine_info)
    assert "gpu_state" not in machine_info["benchsuite"]
    assert overview.gpu_state_text({"machine_info": machine_info, "benchmarks": []}) is None
