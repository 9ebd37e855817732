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


NEW_API = pytest.mark.skipif(
    not hasattr(torch.backends.cuda.matmul, "fp32_precision"), reason="torch without fp32_precision"
)


def _legacy() -> tuple[bool, bool]:
    """The legacy getters, read the way TorchInductor reads them (torch >= 2.9 raises RuntimeError on a mix)."""
    return torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32


@NEW_API
def test_a_process_that_set_the_new_api_alone_gets_it_back(tf32_state):
    """A process that set fp32_precision alone (legacy getters unreadable) finds TF32 set through both APIs inside
    the block, so torch.compile can read it, and its own new-API state back after it."""
    torch.backends.cuda.matmul.fp32_precision = "tf32"
    with precision.matmul_mode("fp32", CUDA):
        assert torch.backends.cuda.matmul.fp32_precision == "ieee"
        assert torch.backends.cudnn.conv.fp32_precision == "ieee"
        assert _legacy() == (False, False)
    assert torch.backends.cuda.matmul.fp32_precision == "tf32"


@NEW_API
@pytest.mark.parametrize("name, on", [("tf32", True), ("fp32", False)])
def test_tf32_switches_keep_the_legacy_getters_readable(tf32_state, name, on):
    """pytorch/pytorch#166387: setting only the fp32_precision API makes the legacy allow_tf32 getters raise, and
    inductor reads them, so torch.compile of a TF32 case fails. Inside and after the block they read, with the
    state in effect, and agree with the new API."""
    before = _legacy()
    with precision.matmul_mode(name, CUDA):
        assert _legacy() == (on, on)
        expected = "tf32" if on else "ieee"
        assert torch.backends.cuda.matmul.fp32_precision == expected
        assert torch.backends.cudnn.conv.fp32_precision == expected
        assert torch.backends.cudnn.rnn.fp32_precision == expected
    assert _legacy() == before


@NEW_API
def test_set_tf32_sets_both_apis_consistently(tf32_state):
    for on in (True, False, True):
        precision.set_tf32(on)
        assert _legacy() == (on, on)
        assert torch.get_float32_matmul_precision() == ("high" if on else "highest")
        assert torch.backends.cuda.matmul.fp32_precision == ("tf32" if on else "ieee")


@NEW_API
def test_the_new_api_state_is_restored_exactly(tf32_state):
    paths = [torch.backends.cuda.matmul, torch.backends.cudnn.conv, torch.backends.cudnn.rnn]
    before = [owner.fp32_precision for owner in paths], _legacy()
    with precision.matmul_mode("tf32", CUDA):
        pass
    assert ([owner.fp32_precision for owner in paths], _legacy()) == before


def test_tf32_falls_back_to_allow_tf32_on_torch_without_the_new_api(monkeypatch):
    legacy_matmul, legacy_cudnn = SimpleNamespace(allow_tf32=False), SimpleNamespace(allow_tf32=True)
    monkeypatch.setattr(torch.backends.cuda, "matmul", legacy_matmul)
    monkeypatch.setattr(torch.backends, "cudnn", legacy_cudnn)
    with precision.matmul_mode("tf32", CUDA):
        assert legacy_matmul.allow_tf32 and legacy_cudnn.allow_tf32
    with precision.matmul_mode("fp32", CUDA):
        assert not legacy_matmul.allow_tf32 and not legacy_cudnn.allow_tf32
    assert (legacy_matmul.allow_tf32, legacy_cudnn.allow_tf32) == (False, True)
