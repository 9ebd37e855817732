"""The reference nearest in hardware: the same machine id first, else the closest CPU or GPU, never across types."""

from __future__ import annotations

import json

from results_factory import results_data

from benchsuite.cli import main
from benchsuite.compare.nearest import nearest_reference


def _write(path, machine_id, **info):
    data = results_data()
    data["machine_info"]["benchsuite"] = {"machine_id": machine_id, "device": "cpu", **info}
    data["benchsuite"]["machine_id"] = machine_id
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


ZEN5 = {"cpu_vendor": "amd", "cpu_microarchitecture": "zen5", "cpu_bf16": ["avx512bf16"]}
ZEN3 = {"cpu_vendor": "amd", "cpu_microarchitecture": "zen3", "cpu_bf16": []}
ZEN4 = {"cpu_vendor": "amd", "cpu_microarchitecture": "zen4", "cpu_bf16": ["avx512bf16"]}
H100 = {"device": "cuda:0", "gpu": {"count": 1, "names": ["NVIDIA H100 80GB HBM3"]}}


def _references(tmp_path):
    refs = tmp_path / "results"
    _write(refs / "cpu-amd-zen3-2c" / "20261121T000000Z.json", "cpu-amd-zen3-2c", **ZEN3)
    _write(refs / "cpu-amd-zen4-avx512bf16-2c" / "20261121T000000Z.json", "cpu-amd-zen4-avx512bf16-2c", **ZEN4)
    _write(refs / "nvidia-h100-80gb-hbm3-x1" / "20261121T000000Z.json", "nvidia-h100-80gb-hbm3-x1", **H100)
    return refs


def test_the_same_machine_id_is_the_same_hardware(tmp_path):
    refs = _references(tmp_path)
    new = _write(tmp_path / "out" / "cpu-amd-zen3-2c" / "r.json", "cpu-amd-zen3-2c", **ZEN3)
    found = nearest_reference(new, refs)
    assert found.folder == refs / "cpu-amd-zen3-2c" and found.same_hardware


def test_otherwise_the_closest_cpu_without_the_gate(tmp_path):
    refs = _references(tmp_path)
    new = _write(tmp_path / "out" / "x" / "r.json", "cpu-amd-zen5-avx512bf16-4c", **ZEN5)
    found = nearest_reference(new, refs)
    assert found.folder == refs / "cpu-amd-zen4-avx512bf16-2c" and not found.same_hardware  # native bf16 like zen4
    assert found.reason == "shares device type cpu, vendor amd, bf16 ['avx512bf16']"


def test_a_gpu_run_never_gets_a_cpu_reference(tmp_path, capsys):
    refs = _references(tmp_path)
    a100 = {"device": "cuda:0", "gpu": {"count": 1, "names": ["NVIDIA A100-SXM4-80GB"]}}
    new = _write(tmp_path / "out" / "a100" / "r.json", "nvidia-a100-sxm4-80gb-x1", **a100)
    assert nearest_reference(new, refs).folder == refs / "nvidia-h100-80gb-hbm3-x1"
    (refs / "nvidia-h100-80gb-hbm3-x1" / "20261121T000000Z.json").unlink()
    assert nearest_reference(new, refs) is None
    assert main(["nearest", str(new), "--references", str(refs)]) == 1
    assert "no reference under" in capsys.readouterr().err


def test_cli_prints_the_folder_and_says_why(tmp_path, capsys):
    refs = _references(tmp_path)
    new = _write(tmp_path / "out" / "cpu-amd-zen3-2c" / "r.json", "cpu-amd-zen3-2c", **ZEN3)
    assert main(["nearest", str(new), "--references", str(refs)]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == str(refs / "cpu-amd-zen3-2c") and "the same hardware" in err
    assert main(["nearest", str(tmp_path / "missing.json"), "--references", str(refs)]) == 1
