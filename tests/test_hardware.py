"""Machine identity: the microarchitecture and native-bf16 features that change results name the results folder."""

from __future__ import annotations

import sys
import types

import pytest

from benchsuite.telemetry.hardware import cpu_identity
from benchsuite.telemetry.machine import machine_id, microarchitecture


@pytest.mark.parametrize(
    ("vendor", "family", "model", "name"),
    [
        ("amd", 25, 1, "zen3"),  # EPYC Milan: the project's Zen 3 machines
        ("amd", 25, 17, "zen4"),  # EPYC Genoa: the shared reference results
        ("amd", 26, 2, "zen5"),  # EPYC Turin
        ("amd", 23, 49, "zen2"),  # EPYC Rome
        ("intel", 6, 0x8F, "sapphirerapids"),
        ("intel", 6, 0x6A, "icelake"),
        ("amd", 27, 0, "f27m0"),  # a family the table does not know keeps its numbers
        ("amd", None, None, None),
    ],
)
def test_microarchitecture_from_cpuid_family_and_model(vendor, family, model, name):
    assert microarchitecture(vendor, family, model) == name


def _fake_cpuinfo(monkeypatch, **info):
    monkeypatch.setitem(sys.modules, "cpuinfo", types.SimpleNamespace(get_cpu_info=lambda: info))


def test_cpu_identity_reads_native_bf16_features(monkeypatch):
    _fake_cpuinfo(
        monkeypatch,
        vendor_id_raw="GenuineIntel",
        family=6,
        model=0x8F,
        stepping=8,
        flags=["avx512f", "avx512_bf16", "amx_bf16", "amx_tile"],
    )
    identity = cpu_identity()
    assert identity["cpu_microarchitecture"] == "sapphirerapids" and identity["cpu_bf16"] == ["amx", "avx512bf16"]
    _fake_cpuinfo(monkeypatch, vendor_id_raw="AuthenticAMD", family=25, model=1, flags=["avx2"])
    assert cpu_identity()["cpu_bf16"] == []


def test_machine_id_names_microarchitecture_and_native_bf16_never_a_clock():
    zen3 = {
        "device": "cpu",
        "cpu_model": "AMD EPYC 7B13",
        "cpu_logical_cores": 2,
        "gpu": {"count": 0},
        "cpu_vendor": "amd",
        "cpu_microarchitecture": "zen3",
        "cpu_bf16": [],
    }
    assert machine_id(zen3) == "cpu-amd-zen3-2c"
    zen4 = {**zen3, "cpu_microarchitecture": "zen4", "cpu_bf16": ["avx512bf16"]}
    assert machine_id(zen4) == "cpu-amd-zen4-avx512bf16-2c"
    older = {
        "device": "cpu",
        "cpu_model": "Intel(R) Xeon(R) CPU @ 2.20GHz",
        "cpu_logical_cores": 4,
        "gpu": {"count": 0},
    }
    assert machine_id(older) == "cpu-intel-xeon-4c"  # no CPUID numbers: the model name, without its clock


#: py-cpuinfo records as pytest-benchmark keeps them in machine_info.cpu (the fields the identity reads).
RECORDED = {
    "cpu-amd-zen3-2c": {
        "vendor_id_raw": "AuthenticAMD",
        "brand_raw": "AMD EPYC",
        "family": 25,
        "model": 1,
        "stepping": 1,
        "flags": ["avx2", "fma", "sha_ni"],
    },
    "cpu-amd-zen4-avx512bf16-2c": {
        "vendor_id_raw": "AuthenticAMD",
        "brand_raw": "AMD EPYC",
        "family": 25,
        "model": 17,
        "stepping": 1,
        "flags": ["avx2", "avx512f", "avx512_bf16"],
    },
    "cpu-intel-sapphirerapids-amx-avx512bf16-2c": {
        "vendor_id_raw": "GenuineIntel",
        "brand_raw": "Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz",
        "family": 6,
        "model": 143,
        "stepping": 8,
        "flags": ["avx512f", "avx512_bf16", "amx_bf16", "amx_tile", "amx_int8"],
    },
}


@pytest.mark.parametrize("expected", list(RECORDED))
def test_machine_id_from_recorded_cpuinfo(expected):
    from benchsuite.telemetry.machine import identity_from_cpuinfo

    info = {
        "device": "cpu",
        "cpu_model": RECORDED[expected]["brand_raw"],
        "cpu_logical_cores": 2,
        "torch_threads": 2,
        "gpu": {"count": 0},
        **identity_from_cpuinfo(RECORDED[expected]),
    }
    assert machine_id(info) == expected


def test_machine_id_counts_the_cores_torch_uses():
    info = {
        "device": "cpu",
        "cpu_model": "AMD EPYC",
        "cpu_logical_cores": 16,
        "torch_threads": 4,
        "gpu": {"count": 0},
        "cpu_vendor": "amd",
        "cpu_microarchitecture": "zen4",
        "cpu_bf16": ["avx512bf16"],
    }
    assert machine_id(info) == "cpu-amd-zen4-avx512bf16-4c"


def test_gpu_host_names_the_gpu_the_run_used_not_the_count_visible(monkeypatch):
    import torch

    from benchsuite.telemetry import hardware

    props = [
        types.SimpleNamespace(name="NVIDIA H100 80GB HBM3", total_memory=80 * 2**30, major=9, minor=0, uuid=f"uuid-{i}")
        for i in range(8)
    ]
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 8)
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda i: props[i])
    monkeypatch.setattr(torch.backends.cudnn, "version", lambda: 91002)
    monkeypatch.setattr(hardware, "nvml_driver_version", lambda: "580.65")
    gpu = hardware.gpu_info(torch.device("cuda", 3))
    assert (
        gpu["count"] == 8
        and gpu["count_used"] == 1
        and gpu["used"] == [{"index": 3, "name": "NVIDIA H100 80GB HBM3", "uuid": "uuid-3"}]
    )
    info = {"device": "cuda:3", "cpu_model": "Intel Xeon", "cpu_logical_cores": 224, "gpu": gpu}
    assert machine_id(info) == "nvidia-h100-80gb-hbm3-x1"
