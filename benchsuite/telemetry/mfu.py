"""Model FLOPs utilisation (MFU).

FLOPs of one training step (forward + backward of the model, optimizer excluded, as in the PaLM paper's MFU,
Chowdhery et al. 2022, appendix B) are counted once per case with ``torch.utils.flop_counter.FlopCounterMode`` on a
copy of the model. Achieved FLOP/s = FLOPs per sample × samples trained / timed seconds (= FLOPs per step / step time
for full batches): the whole job's rate, every rank's samples included. MFU is per GPU: the model FLOPs per second
over the peak FLOP/s of the hardware used (Chowdhery et al. 2022, appendix B), so a data-parallel run divides the
job's rate by world size × one GPU's dense peak for the precision in effect, and the same work on each GPU reads the
same MFU at any world size. On a CPU there is no peak table: achieved FLOP/s only.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

TERA = 1e12

#: Dense (no structured sparsity) peak tensor FLOP/s by GPU and precision class, from NVIDIA's datasheets; the
#: datasheets' "with sparsity" figures are halved. fp32 is the non-tensor-core FP32 rate. Sources:
#: A100 (SXM4 and PCIe, 40 and 80 GB share these rates): "NVIDIA A100 Tensor Core GPU" datasheet, NVIDIA, 2021;
#: H100 SXM, H100 PCIe, H100 NVL: "NVIDIA H100 Tensor Core GPU" datasheet, NVIDIA, 2023
#: (https://www.nvidia.com/en-us/data-center/h100/); H200 SXM and H200 NVL: "NVIDIA H200 Tensor Core GPU" datasheet,
#: NVIDIA, 2024 (https://www.nvidia.com/en-us/data-center/h200/); GH200: "NVIDIA GH200 Grace Hopper Superchip"
#: datasheet, NVIDIA, 2024 (its Hopper GPU has the H100 SXM rates); L4: "NVIDIA L4 Tensor Core GPU" datasheet, 2023.
PEAK_FLOPS: dict[str, dict[str, float]] = {
    "A100": {"fp32": 19.5 * TERA, "tf32": 156 * TERA, "bf16": 312 * TERA, "fp16": 312 * TERA},
    "H100 SXM": {"fp32": 67 * TERA, "tf32": 494.5 * TERA, "bf16": 989.5 * TERA, "fp16": 989.5 * TERA},
    "H100 PCIe": {"fp32": 51 * TERA, "tf32": 378 * TERA, "bf16": 756.5 * TERA, "fp16": 756.5 * TERA},
    "H100 NVL": {"fp32": 60 * TERA, "tf32": 417.5 * TERA, "bf16": 835.5 * TERA, "fp16": 835.5 * TERA},
    "H200 SXM": {"fp32": 67 * TERA, "tf32": 494.5 * TERA, "bf16": 989.5 * TERA, "fp16": 989.5 * TERA},
    "H200 NVL": {"fp32": 60 * TERA, "tf32": 417.5 * TERA, "bf16": 835.5 * TERA, "fp16": 835.5 * TERA},
    "GH200": {"fp32": 67 * TERA, "tf32": 494.5 * TERA, "bf16": 989.5 * TERA, "fp16": 989.5 * TERA},
    "L4": {"fp32": 30.3 * TERA, "tf32": 60 * TERA, "bf16": 121 * TERA, "fp16": 121 * TERA},
}


def gpu_family(name: str) -> str | None:
    """Map a CUDA device name from ``torch.cuda.get_device_name`` to a :data:`PEAK_FLOPS` key, or None.

    Names as the driver reports them: ``NVIDIA H100 80GB HBM3`` (SXM), ``NVIDIA H100 PCIe``, ``NVIDIA H100 NVL``,
    ``NVIDIA H200``, ``NVIDIA H200 NVL``, ``NVIDIA GH200 480GB``, ``NVIDIA A100-SXM4-80GB``, ``NVIDIA A100-PCIE-40GB``,
    ``NVIDIA A100 80GB PCIe``, ``NVIDIA L4``. A MIG slice (``NVIDIA A100 80GB PCIe MIG 1g.10gb``) has a fraction of
    the board's SMs, so it gets None (no MFU) rather than the whole board's peak. Unknown names (T4, V100, H800,
    A800, consumer cards) get None as well: a wrong peak is worse than none.
    """
    upper = " ".join(name.upper().replace("-", " ").split())
    if " MIG " in f" {upper} ":
        return None
    words = upper.split()
    if "GH200" in words:
        return "GH200"
    for chip in ("H200", "H100"):
        if chip in words:
            form = "NVL" if "NVL" in words else "PCIe" if "PCIE" in words else "SXM"  # SXM: "H100 80GB HBM3"
            return None if (chip, form) == ("H200", "PCIe") else f"{chip} {form}"
    if "A100" in words:
        return "A100"
    if words in (["NVIDIA", "L4"], ["L4"]):
        return "L4"
    return None


def peak_flops(device: torch.device, precision: str) -> float | None:
    """Dense peak FLOP/s of ``device`` for ``precision`` (fp32 with TF32 off, tf32, bf16, fp16), or None."""
    if device.type != "cuda":
        return None
    family = gpu_family(torch.cuda.get_device_name(device))
    return PEAK_FLOPS[family][precision] if family else None


def step_flops(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> int:
    """FLOPs of one forward and backward pass of ``model`` on x (B, *input_shape), y (B,), counted on a deep copy
    (the model's parameters, gradients and BatchNorm statistics are left untouched)."""
    shadow = copy.deepcopy(model)
    with FlopCounterMode(display=False) as counter:
        F.cross_entropy(shadow(x), y).backward()
    return int(counter.get_total_flops())


def flops_per_sample(model: nn.Module, x: torch.Tensor, y: torch.Tensor, case_key: str) -> float:
    """Training FLOPs per sample of a case, counted once per case (``case_key``) and process."""
    cache = _FLOPS_BY_CASE
    if case_key not in cache:
        cache[case_key] = step_flops(model, x, y) / len(y)
    return cache[case_key]


_FLOPS_BY_CASE: dict[str, float] = {}


def utilisation(
    flops_sample: float, samples: int, timed_s: float, peak: float | None, world_size: int = 1
) -> dict[str, float | None]:
    """Achieved FLOP/s of the whole job and MFU per GPU (None without a peak, e.g. on a CPU).

    MFU as in PaLM (Chowdhery et al. 2022, appendix B): model FLOPs per second over the peak FLOPs per second of the
    hardware used, here ``world_size`` devices of ``peak`` each.

    Args:
        flops_sample: training FLOPs (forward + backward) per sample.
        samples: samples the whole job trained in the timed region (every rank's: the global batches).
        timed_s: seconds of the timed region.
        peak: dense peak FLOP/s of one device for the precision in effect, or None.
        world_size: devices the job trained on (data-parallel ranks, one GPU each).

    Returns:
        ``flops_per_sample``; ``achieved_flops_per_s`` (the whole job's FLOP/s, all ranks together);
        ``peak_flops_per_s`` (one device's); ``mfu`` (achieved / (world size × peak), a fraction of 1).
    """
    achieved = flops_sample * samples / timed_s if timed_s > 0 else None
    return {
        "flops_per_sample": flops_sample,
        "achieved_flops_per_s": achieved,
        "peak_flops_per_s": peak,
        "mfu": achieved / (max(world_size, 1) * peak) if achieved and peak else None,
    }
