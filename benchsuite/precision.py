"""Numeric precision of a case: fp32, TF32 matmuls, bf16 autocast, fp16 autocast with GradScaler.

Sources: PyTorch AMP documentation (torch.autocast, torch.amp.GradScaler; "CUDA Automatic Mixed Precision
examples"); TF32 flags ``torch.backends.cuda.matmul.allow_tf32`` and ``torch.backends.cudnn.allow_tf32``.
fp32 on CUDA runs with TF32 off so that fp32 means fp32.
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
PRECISIONS: dict[str, Precision] = {
    "fp32": Precision("fp32", None, tf32=False, grad_scaler=False, cuda_only=False),
    "tf32": Precision("tf32", None, tf32=True, grad_scaler=False, cuda_only=True),
    "bf16": Precision("bf16", torch.bfloat16, tf32=False, grad_scaler=False, cuda_only=False),
    "fp16": Precision("fp16", torch.float16, tf32=False, grad_scaler=True, cuda_only=True),
}


def unsupported_reason(name: str, device: torch.device) -> str | None:
    """Why ``name`` cannot run on ``device`` (the run is then skipped with this reason), or None."""
    policy = PRECISIONS[name]
    if policy.cuda_only and device.type != "cuda":
        what = "fp16 autocast with GradScaler" if name == "fp16" else "TF32 tensor-core matmuls"
        return f"precision {name}: {what} needs a CUDA device, this run is on {device.type}"
    if name == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        return "precision bf16: this GPU does not support bf16"
    return None


def in_effect(name: str, device: torch.device) -> str:
    """The precision actually in effect, as recorded with each run (e.g. ``fp16 autocast + GradScaler``)."""
    policy = PRECISIONS[name]
    if policy.autocast_dtype is not None:
        scaler = " + GradScaler" if policy.grad_scaler else ""
        return f"{name} autocast ({device.type}){scaler}"
    if device.type == "cuda":
        return "fp32 with TF32 matmuls" if policy.tf32 else "fp32 (TF32 off)"
    return "fp32"


@contextlib.contextmanager
def matmul_mode(name: str, device: torch.device) -> Iterator[None]:
    """Set the TF32 flags for ``name`` on CUDA for the duration of a run, then restore them."""
    if device.type != "cuda":
        yield
        return
    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = PRECISIONS[name].tf32
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


def autocast(name: str, device: torch.device) -> torch.autocast:
    """The autocast context of ``name`` (disabled for fp32/tf32)."""
    dtype = PRECISIONS[name].autocast_dtype
    return torch.autocast(device.type, dtype=dtype or torch.bfloat16, enabled=dtype is not None)


def grad_scaler(name: str, device: torch.device) -> torch.amp.GradScaler:
    """A GradScaler, enabled only for fp16 (bf16 has fp32's exponent range and needs none)."""
    return torch.amp.GradScaler(device.type, enabled=PRECISIONS[name].grad_scaler)
