"""Numeric precision of a case: fp32, TF32 matmuls, bf16 autocast, fp16 autocast with GradScaler.

Sources: PyTorch AMP documentation (torch.autocast, torch.amp.GradScaler; "CUDA Automatic Mixed Precision
examples"); TF32 switches from "CUDA semantics: TensorFloat-32 (TF32) on Ampere (and later) devices". TF32 is set
through the legacy ``allow_tf32`` setters first and then, on torch >= 2.9, the ``fp32_precision`` API (matmul, cudnn
conv and rnn) to the same state, so both APIs read back what is in effect. Setting the new API alone makes the legacy
getters raise ("you have used mix of the legacy and new APIs"), and TorchInductor still reads them, so
``torch.compile`` of a TF32 case then fails with BackendCompilerFailed (pytorch/pytorch#166387, open; PR #173731 moves
inductor to the new API). fp32 on CUDA runs with TF32 off so that fp32 means fp32.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Precision:
    """How a precision runs: autocast dtype (None: none), TF32 matmuls, GradScaler, and whether it needs CUDA."""

    name: str
    autocast_dtype: torch.dtype | None
    tf32: bool
    grad_scaler: bool
    cuda_only: bool


#: Precision registry: scenario name → policy.
PRECISION_POLICIES: dict[str, Precision] = {
    "fp32": Precision("fp32", None, tf32=False, grad_scaler=False, cuda_only=False),
    "tf32": Precision("tf32", None, tf32=True, grad_scaler=False, cuda_only=True),
    "bf16": Precision("bf16", torch.bfloat16, tf32=False, grad_scaler=False, cuda_only=False),
    "fp16": Precision("fp16", torch.float16, tf32=False, grad_scaler=True, cuda_only=True),
}


def unsupported_reason(name: str, device: torch.device) -> str | None:
    """Why ``name`` cannot run on ``device`` (the run is then skipped with this reason), or None."""
    policy = PRECISION_POLICIES[name]
    if policy.cuda_only and device.type != "cuda":
        what = "fp16 autocast with GradScaler" if name == "fp16" else "TF32 tensor-core matmuls"
        return f"precision {name}: {what} needs a CUDA device, this run is on {device.type}"
    if name == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        return "precision bf16: this GPU does not support bf16"
    return None


def in_effect(name: str, device: torch.device) -> str:
    """The precision actually in effect, as recorded with each run (e.g. ``fp16 autocast + GradScaler``)."""
    policy = PRECISION_POLICIES[name]
    if policy.autocast_dtype is not None:
        scaler = " + GradScaler" if policy.grad_scaler else ""
        return f"{name} autocast ({device.type}){scaler}"
    if device.type == "cuda":
        return "fp32 with TF32 matmuls" if policy.tf32 else "fp32 (TF32 off)"
    return "fp32"


def tf32_switches() -> list[tuple[object, str, object, object]]:
    """The TF32 switches of the installed torch, in the order they are set: ``(owner, attribute, on, off)`` each.

    The legacy ``allow_tf32`` flags (cuBLAS matmul, cuDNN) first, then, where torch has it (>= 2.9), the
    ``fp32_precision`` API (matmul, cudnn conv and rnn) to the same state: setting the legacy flags first keeps the
    legacy getters readable, which TorchInductor reads (pytorch/pytorch#166387), and the new values make the state
    explicit for code that reads the new API.
    """
    backends = torch.backends
    legacy = [(backends.cuda.matmul, "allow_tf32", True, False), (backends.cudnn, "allow_tf32", True, False)]
    return legacy + _new_api_switches()


def _new_api_switches() -> list[tuple[object, str, object, object]]:
    if not hasattr(torch.backends.cuda.matmul, "fp32_precision"):
        return []
    owners = (torch.backends.cuda.matmul, torch.backends.cudnn.conv, torch.backends.cudnn.rnn)
    return [(owner, "fp32_precision", "tf32", "ieee") for owner in owners]


def legacy_readable() -> bool:
    """Whether the legacy ``allow_tf32`` getters can be read now: False where the process set the ``fp32_precision``
    API alone in a way the legacy flags cannot express (torch >= 2.9 then raises RuntimeError on reading them)."""
    try:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32  # noqa: B018 (a read that may raise)
    except RuntimeError:
        return False
    return True


def set_tf32(enabled: bool) -> None:
    """Turn TF32 matmuls and convolutions on or off for the process, through both APIs consistently
    (:func:`tf32_switches`); the flags exist, and are set, on a CPU build too. Afterwards the legacy getters and
    the ``fp32_precision`` API both read back ``enabled``."""
    for owner, attribute, on, off in tf32_switches():
        setattr(owner, attribute, on if enabled else off)


@contextlib.contextmanager
def tf32(enabled: bool) -> Iterator[None]:
    """TF32 on or off (:func:`set_tf32`) inside the block; the switches as they were on exit.

    The state is saved through the ``fp32_precision`` API (readable whichever API the process used) and, when they
    can be read, the legacy flags; it is restored legacy flags first, then the new API, so a process whose legacy
    getters were readable before the block finds them readable, with the same values, after it.
    """
    legacy = legacy_readable()
    switches = [switch for switch in tf32_switches() if legacy or switch[1] != "allow_tf32"]
    saved = [getattr(owner, attribute) for owner, attribute, _, _ in switches]
    set_tf32(enabled)
    try:
        yield
    finally:
        for (owner, attribute, _, _), value in zip(switches, saved, strict=True):
            setattr(owner, attribute, value)


@contextlib.contextmanager
def matmul_mode(name: str, device: torch.device) -> Iterator[None]:
    """Set TF32 on (``tf32``) or off (every other precision) on CUDA for the duration of a run, then restore it
    (:func:`tf32`); elsewhere nothing changes. Compile a case inside it: inductor reads the switches."""
    if device.type != "cuda":
        yield
        return
    with tf32(PRECISION_POLICIES[name].tf32):
        yield


def uses_autocast(name: str) -> bool:
    """Whether ``name`` runs under autocast (bf16, fp16); fp32 and tf32 need no autocast context at all."""
    return PRECISION_POLICIES[name].autocast_dtype is not None


def autocast(name: str, device: torch.device) -> torch.autocast:
    """The autocast context of ``name`` (disabled for fp32/tf32)."""
    dtype = PRECISION_POLICIES[name].autocast_dtype
    return torch.autocast(device.type, dtype=dtype or torch.bfloat16, enabled=dtype is not None)


def grad_scaler(name: str, device: torch.device) -> torch.amp.GradScaler | None:
    """A GradScaler for fp16, None for every other precision (bf16 has fp32's exponent range and needs none; a disabled
    scaler would still cost a step three calls)."""
    return torch.amp.GradScaler(device.type) if PRECISION_POLICIES[name].grad_scaler else None
