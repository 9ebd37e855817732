"""Machine identity: the microarchitecture and native-bf16 features that change results name the results folder."""

from __future__ import annotations

import sys
import types

import pytest

from benchsuite.hardware import cpu_identity, machine_id, microarchitecture


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
    _fake_cpuinfo(monkeypatch, vendor_id_raw="GenuineIntel", family=6, model=0x8F, stepping=8,
                  flags=["avx512f", "avx512_bf16", "amx_bf16", "amx_tile"])  # fmt: skip
    identity = cpu_identity()
    assert identity["cpu_microarchitecture"] == "sapphirerapids" and identity["cpu_bf16"] == ["amx", "avx512bf16"]
    _fake_cpuinfo(monkeypatch, vendor_id_raw="AuthenticAMD", family=25, model=1, flags=["avx2"])
    assert cpu_identity()["cpu_bf16"] == []


def test_machine_id_names_microarchitecture_and_native_bf16_never_a_clock():
    zen3 = {"device": "cpu", "cpu_model": "AMD EPYC 7B13", "cpu_logical_cores": 2, "gpu": {"count": 0},
            "cpu_vendor": "amd", "cpu_microarchitecture": "zen3", "cpu_bf16": []}  # fmt: skip
    assert machine_id(zen3) == "cpu-amd-zen3-2c"
    zen4 = {**zen3, "cpu_microarchitecture": "zen4", "cpu_bf16": ["avx512bf16"]}
    assert machine_id(zen4) == "cpu-amd-zen4-avx512bf16-2c"
    older = {"device": "cpu", "cpu_model": "Intel(R) Xeon(R) CPU @ 2.20GHz", "cpu_logical_cores": 4, "gpu": {"count": 0}}
    assert machine_id(older) == "cpu-intel-xeon-4c"  # no CPUID numbers: the model name, without its clock
