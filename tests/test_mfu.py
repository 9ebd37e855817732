"""MFU: FLOPs counted on an MLP against a hand computation, the peak table, utilisation."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from benchsuite.telemetry import mfu


def test_step_flops_of_an_mlp_by_hand():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(40, 16), nn.ReLU(), nn.Linear(16, 3))
    x, y = torch.randn(8, 1, 40), torch.randint(0, 3, (8,))
    # forward: 2·B·in·out per Linear = 2·8·40·16 + 2·8·16·3 = 10240 + 768
    # backward: grad of weights (same again) for both layers, grad of the input only for layer 2 (768)
    expected = (10240 + 768) + (10240 + 768) + 768
    before = [p.clone() for p in model.parameters()]
    assert mfu.step_flops(model, x, y) == expected
    assert all(p.grad is None for p in model.parameters())  # counted on a copy
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


def test_flops_are_counted_once_per_case(monkeypatch):
    calls = []
    monkeypatch.setattr(mfu, "step_flops", lambda model, x, y: calls.append(1) or 800)
    model, x, y = nn.Linear(2, 2), torch.randn(4, 2), torch.zeros(4, dtype=torch.long)
    assert mfu.flops_per_sample(model, x, y, "case-a-unique-key") == 200.0
    assert mfu.flops_per_sample(model, x, y, "case-a-unique-key") == 200.0
    assert len(calls) == 1


@pytest.mark.parametrize(
    ("name", "family"),
    [
        ("NVIDIA H100 80GB HBM3", "H100 SXM"),
        ("NVIDIA H100 PCIe", "H100 PCIe"),
        ("NVIDIA H100 NVL", "H100 NVL"),
        ("NVIDIA H200", "H200 SXM"),
        ("NVIDIA H200 NVL", "H200 NVL"),
        ("NVIDIA GH200 480GB", "GH200"),
        ("NVIDIA A100-SXM4-80GB", "A100"),
        ("NVIDIA A100-SXM4-40GB", "A100"),
        ("NVIDIA A100-PCIE-40GB", "A100"),
        ("NVIDIA A100 80GB PCIe", "A100"),
        ("NVIDIA L4", "L4"),
        ("NVIDIA A100 80GB PCIe MIG 1g.10gb", None),
        ("NVIDIA H100 80GB HBM3 MIG 3g.40gb", None),
        ("Tesla T4", None),
        ("NVIDIA L40S", None),
        ("NVIDIA H800", None),
        ("Tesla V100-SXM2-16GB", None),
    ],
)
def test_gpu_family(name, family):
    assert mfu.gpu_family(name) == family


def test_nvl_parts_are_not_given_sxm_peaks():
    """The NVL boards run at a lower clock and power than SXM: their datasheet rates are lower."""
    assert mfu.PEAK_FLOPS["H100 NVL"]["bf16"] < mfu.PEAK_FLOPS["H100 SXM"]["bf16"]
    assert mfu.PEAK_FLOPS["H200 NVL"]["bf16"] < mfu.PEAK_FLOPS["H200 SXM"]["bf16"]


def test_peak_flops_of_a_mig_slice_is_unknown(monkeypatch):
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "NVIDIA H100 80GB HBM3 MIG 1g.10gb")
    assert mfu.peak_flops(torch.device("cuda", 0), "bf16") is None
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "NVIDIA H100 NVL")
    assert mfu.peak_flops(torch.device("cuda", 0), "bf16") == 835.5e12


def test_peak_table_orders_precisions():
    for peaks in mfu.PEAK_FLOPS.values():
        assert peaks["fp32"] < peaks["tf32"] < peaks["bf16"] == peaks["fp16"]
    assert mfu.peak_flops(torch.device("cpu"), "fp32") is None


def test_utilisation_by_hand():
    u = mfu.utilisation(flops_sample=1e9, samples=1000, timed_s=2.0, peak=1e12)
    assert u["achieved_flops_per_s"] == 5e11 and u["mfu"] == 0.5
    assert mfu.utilisation(1e9, 1000, 2.0, None)["mfu"] is None  # CPU: achieved FLOP/s only
