"""Precision policies: what runs where, what is recorded, TF32 flags restored."""

from __future__ import annotations

import pytest
import torch

from benchsuite import precision

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
    assert not precision.grad_scaler("bf16", CPU).is_enabled()
    assert not precision.grad_scaler("fp32", CPU).is_enabled()


def test_tf32_flags_are_set_for_the_run_and_restored():
    before = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    with precision.matmul_mode("tf32", CUDA):
        assert torch.backends.cuda.matmul.allow_tf32 and torch.backends.cudnn.allow_tf32
    with precision.matmul_mode("fp32", CUDA):
        assert not torch.backends.cuda.matmul.allow_tf32
    assert (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32) == before
