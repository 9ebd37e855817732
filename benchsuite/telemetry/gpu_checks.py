"""The API checks of ``benchsuite doctor``: that torch's CUDA device, the MFU peak table and NVML behave on this
machine as the fakes of the tests assume. :func:`api_checks` gives every record (:class:`Check`) in order: the device
(:func:`device_check`), its peak FLOP/s (:func:`mfu_peak_check`), then the NVML checks of
:mod:`benchsuite.telemetry.nvml_checks`. No check raises: an exception becomes a ``fail`` with
``type(exc).__name__: message``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import torch

from benchsuite.telemetry import hardware, mfu
from benchsuite.telemetry.checks import Check
from benchsuite.telemetry.nvml import MIB
from benchsuite.telemetry.nvml_checks import cuda_missing, error_text, never_raises, nvml_checks

#: The precisions of :data:`benchsuite.telemetry.mfu.PEAK_FLOPS`, in the order the checks list them.
PRECISIONS = ("fp32", "tf32", "bf16", "fp16")


def api_checks(device: torch.device, *, nvml: Any = None, busy: Callable[[], None] | None = None) -> list[Check]:
    """Every API check of ``device``: ``device``, ``mfu_peak``, then ``nvml_handle``, ``nvml_metrics``,
    ``nvml_energy_counter``, ``nvml_clock_events``, ``gpu_state`` (NVML opened once and always shut down).

    Args:
        device: the device ``benchsuite doctor`` trains on.
        nvml: the ``pynvml`` module or a fake (None imports the real one).
        busy: keeps the GPU busy for about 0.5-1 s while the energy counter is read (default: fp32 matmuls on the
            device for 0.5 s, then ``torch.cuda.synchronize``).

    Never raises.
    """
    try:
        device = torch.device(device)
    except Exception as exc:
        return [Check("device", "fail", f"not a torch device: {error_text(exc)}", {"device": str(device)})]
    return [device_check(device), mfu_peak_check(device), *nvml_checks(device, nvml=nvml, busy=busy)]


@never_raises("device")
def device_check(device: torch.device) -> Check:
    """The device a run trains on. CUDA (``torch.cuda.get_device_name``, ``torch.cuda.get_device_properties``):
    name, compute capability, memory (MiB), UUID and torch's CUDA version, ``ok``; ``fail`` with
    :func:`hardware.cuda_unavailable_reason` where torch cannot use CUDA (a CPU-only build, no visible device). CPU:
    its name (:func:`hardware.cpu_brand`), torch's intra-op threads and the logical cores, ``ok``."""
    if device.type != "cuda":
        name, threads = hardware.cpu_brand(), torch.get_num_threads()
        details = {"device": str(device), "name": name, "torch_threads": threads, "logical_cores": os.cpu_count()}
        details["torch_version"] = torch.__version__
        text = f"{device}: {name}, {threads} torch threads of {os.cpu_count()} logical cores"
        return Check("device", "ok", text, details)
    if missing := cuda_missing(device):
        return Check(
            "device", "fail", f"{device} cannot be used: {missing}", {"device": str(device), "reason": missing}
        )
    props = torch.cuda.get_device_properties(device)
    name = torch.cuda.get_device_name(device)
    cuda = torch.version.cuda or f"HIP {getattr(torch.version, 'hip', None)}"
    details = {
        "device": str(device),
        "name": name,
        "compute_capability": f"{props.major}.{props.minor}",
        "memory_mib": props.total_memory // MIB,
        "uuid": str(u) if (u := getattr(props, "uuid", None)) else None,
        "cuda_version": cuda,
        "torch_version": torch.__version__,
    }
    text = (
        f"{device}: {name}, compute capability {details['compute_capability']}, {details['memory_mib']} MiB, "
        f"CUDA {cuda}"
    )
    return Check("device", "ok", text, details)


def _is_mig_name(name: str) -> bool:
    """A MIG slice's device name carries `` MIG `` (``NVIDIA A100 80GB PCIe MIG 1g.10gb``), as in
    :func:`mfu.gpu_family`."""
    return " MIG " in f" {' '.join(name.upper().replace('-', ' ').split())} "


@never_raises("mfu_peak")
def mfu_peak_check(device: torch.device) -> Check:
    """The dense peak FLOP/s MFU divides by: ``torch.cuda.get_device_name`` → :func:`mfu.gpu_family` →
    :func:`mfu.peak_flops` per precision (details in TFLOP/s; NVIDIA datasheets, see :data:`mfu.PEAK_FLOPS`).
    ``ok`` naming the family; ``warn`` on a MIG slice (a fraction of the board's SMs: MFU left out) or a name the
    table lacks (MFU missing; a wrong peak is worse than none); ``skipped`` on a CPU (no peak table) or without
    CUDA."""
    if device.type != "cuda":
        return Check("mfu_peak", "skipped", "no peak table for CPUs: achieved FLOP/s only")
    if missing := cuda_missing(device):
        return Check("mfu_peak", "skipped", f"no CUDA device to look up: {missing}")
    name = torch.cuda.get_device_name(device)
    family = mfu.gpu_family(name)
    if family is None:
        why = (
            f"{name!r} is a MIG slice: it has a fraction of the board's SMs, so MFU is left out"
            if _is_mig_name(name)
            else f"{name!r} is not in the peak table: MFU will be missing (achieved FLOP/s only)"
        )
        return Check("mfu_peak", "warn", why, {"name": name, "family": None, "mig": _is_mig_name(name)})
    peaks = {p: mfu.peak_flops(device, p) for p in PRECISIONS}
    tflops = {p: round(v / mfu.TERA, 3) if v is not None else None for p, v in peaks.items()}
    listed = ", ".join(f"{p} {v:g}" for p, v in tflops.items() if v is not None)
    text = f"{name} is {family}: dense peak {listed} TFLOP/s"
    return Check("mfu_peak", "ok", text, {"name": name, "family": family, "mig": False, "peak_tflops": tflops})
