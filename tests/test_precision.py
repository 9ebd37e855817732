"""Precision policies: what runs where, what is recorded, TF32 flags restored."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from benchsuite.training import precision

CPU, CUDA = torch.device("cpu"), torch.device("cuda")


@pytest.mark.parametrize("name", ["fp16", "tf32"])
def test_cuda_only_precisions_are_refused_on_cpu_with_a_reason(name):
    reason = precision.unsupported_reason(name, CPU)
    assert reason.startswith(f"precision {name}:") and "needs a CUDA device" in reason


@pytest.mark.parametrize("name", ["fp32", "bf16"])
def test_cpu_runs_fp32_and_bf16(name):
    assert precision.unsupported_reason(name, CPU) is None


def test_precision_in_effect():
    assert precision.in_effect("fp32", CPU) == "fp32"
    assert precision.in_effect("fp32", CUDA) == "fp32 (TF32 off)"
    assert precision.in_effect("tf32", CUDA) == "fp32 with TF32 matmuls"
    assert precision.in_effect("bf16", CPU) == "bf16 autocast (cpu)"
    assert precision.in_effect("fp16", CUDA) == "fp16 autocast (cuda) + GradScaler"


def test_bf16_autocast_on_cpu_computes_in_bf16():
    with precision.autocast("bf16", CPU):
        out = torch.nn.Linear(4, 4)(torch.randn(2, 4))
    assert out.dtype == torch.bfloat16
    with precision.autocast("fp32", CPU):
        assert torch.nn.Linear(4, 4)(torch.randn(2, 4)).dtype == torch.float32


def test_grad_scaler_only_for_fp16():
    assert precision.grad_scaler("bf16", CPU) is None
    assert precision.grad_scaler("fp32", CPU) is None


@pytest.fixture
def tf32_state():
    """Leave torch's TF32 switches as the test found them."""
    saved = [getattr(owner, attribute) for owner, attribute, _, _ in precision.tf32_switches()]
    yield
    for (owner, attribute, _, _), value in zip(precision.tf32_switches(), saved, strict=True):
        setattr(owner, attribute, value)


def _state():
    return [getattr(owner, attribute) for owner, attribute, _, _ in precision.tf32_switches()]


def test_tf32_switches_are_set_for_the_run_and_restored(tf32_state):
    before = _state()
    with precision.matmul_mode("tf32", CUDA):
        assert all(value in ("tf32", True) for value in _state())
    with precision.matmul_mode("fp32", CUDA):
        assert all(value in ("ieee", False) for value in _state())
    assert _state() == before


@pytest.mark.skipif(not hasattr(torch.backends.cuda.matmul, "fp32_precision"), reason="torch without fp32_precision")
def test_tf32_uses_the_fp32_precision_api_when_the_process_already_does(tf32_state):
    """Mixing APIs raises in torch >= 2.9: a process that set fp32_precision must not see the legacy flags read."""
    torch.backends.cuda.matmul.fp32_precision = "tf32"
    with precision.matmul_mode("fp32", CUDA):
        assert torch.backends.cuda.matmul.fp32_precision == "ieee"
        assert torch.backends.cudnn.conv.fp32_precision == "ieee"
    assert torch.backends.cuda.matmul.fp32_precision == "tf32"


def test_tf32_falls_back_to_allow_tf32_on_torch_without_the_new_api(monkeypatch):
    legacy_matmul, legacy_cudnn = SimpleNamespace(allow_tf32=False), SimpleNamespace(allow_tf32=True)
    monkeypatch.setattr(torch.backends.cuda, "matmul", legacy_matmul)
    monkeypatch.setattr(torch.backends, "cudnn", legacy_cudnn)
    with precision.matmul_mode("tf32", CUDA):
        assert legacy_matmul.allow_tf32 and legacy_cudnn.allow_tf32
    with precision.matmul_mode("fp32", CUDA):
        assert not legacy_matmul.allow_tf32 and not legacy_cudnn.allow_tf32
    assert (legacy_matmul.allow_tf32, legacy_cudnn.allow_tf32) == (False, True)
