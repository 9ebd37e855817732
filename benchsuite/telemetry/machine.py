"""The machine id that names a results folder (``cpu-amd-zen5-avx512bf16-2c``, ``nvidia-h100-80gb-hbm3-x1``), from a
machine description: what :func:`benchsuite.telemetry.hardware.hardware_info` reads off this machine, or what an older
results file kept (py-cpuinfo's record, read again when a file is migrated). No torch.

The id names what changes results: the CPU's vendor and microarchitecture (from its CPUID family and model) and the
instruction-set features that change training speed (native bf16: AVX512-BF16 or AMX), never a clock frequency.
bf16 autocast on a CPU without them is emulated and several times slower than fp32; on CUDA, the GPU model and the
count the run used.
"""

from __future__ import annotations

import re
from typing import Any


def slug(text: str) -> str:
    """Lower-case, drop trademark marks and clock speeds, join words with ``-``: ``AMD EPYC 7B13`` →
    ``amd-epyc-7b13``."""
    text = re.sub(r"\((r|tm)\)|@.*$|\bcpu\b|\bprocessor\b", " ", text.lower())
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-") or "unknown"


#: CPU microarchitectures: (vendor, CPUID family) → (first model, last model, name) ranges. Sources: AMD Processor
#: Programming Reference (PPR) manuals for families 17h, 19h and 1Ah; Intel, "Intel Architecture and Processor
#: Identification with CPUID Model and Family Numbers" (developer documentation).
MICROARCHITECTURES: dict[tuple[str, int], tuple[tuple[int, int, str], ...]] = {
    ("amd", 0x17): ((0x00, 0x2F, "zen"), (0x30, 0xFF, "zen2")),
    ("amd", 0x19): ((0x00, 0x0F, "zen3"), (0x10, 0x1F, "zen4"), (0x20, 0x5F, "zen3"), (0x60, 0xAF, "zen4")),
    ("amd", 0x1A): ((0x00, 0xFF, "zen5"),),
    ("intel", 6): (
        (0x3F, 0x3F, "haswell"),
        (0x4F, 0x4F, "broadwell"),
        (0x55, 0x55, "skylakex"),
        (0x6A, 0x6C, "icelake"),
        (0x7D, 0x7E, "icelake"),
        (0x8C, 0x8D, "tigerlake"),
        (0x8E, 0x8E, "kabylake"),
        (0x9E, 0x9E, "coffeelake"),
        (0x8F, 0x8F, "sapphirerapids"),
        (0x97, 0x9A, "alderlake"),
        (0xAD, 0xAE, "graniterapids"),
        (0xB7, 0xBF, "raptorlake"),
        (0xCF, 0xCF, "emeraldrapids"),
    ),
}

#: CPU flags (as Linux names them) that give native bf16 matrix instructions, and their tag in the machine id.
BF16_FLAGS = {"amx_bf16": "amx", "avx512_bf16": "avx512bf16"}

_VENDORS = {"AuthenticAMD": "amd", "GenuineIntel": "intel"}


def identity_from_cpuinfo(info: dict[str, Any]) -> dict[str, Any]:
    """:func:`cpu_identity` from a py-cpuinfo record (``cpuinfo.get_cpu_info()``; pytest-benchmark keeps one in
    every results file's ``machine_info.cpu``)."""
    vendor = _VENDORS.get(info.get("vendor_id_raw", ""), slug(info.get("vendor_id_raw", "") or "unknown"))
    family, model = info.get("family"), info.get("model")
    flags = set(info.get("flags", []))
    return {
        "cpu_vendor": vendor,
        "cpu_family": family,
        "cpu_model_number": model,
        "cpu_stepping": info.get("stepping"),
        "cpu_microarchitecture": microarchitecture(vendor, family, model),
        "cpu_bf16": sorted(tag for flag, tag in BF16_FLAGS.items() if flag in flags),
    }


def microarchitecture(vendor: str, family: int | None, model: int | None) -> str | None:
    """``zen3``, ``sapphirerapids``, ... from the table above; ``f25m17`` for a family/model it does not know; None
    without CPUID numbers."""
    if family is None or model is None:
        return None
    for first, last, name in MICROARCHITECTURES.get((vendor, family), ()):
        if first <= model <= last:
            return name
    return f"f{family}m{model}"


def machine_id(info: dict[str, Any]) -> str:
    """Folder name for results. On a CUDA run ``<gpu-name>-x<GPUs the run used>`` (``nvidia-h100-80gb-hbm3-x1`` on an
    8-GPU host that trained on one). On a CPU run ``cpu-<vendor>-<microarchitecture>[-<native bf16>]-<cores used>c``
    (``cpu-amd-zen5-avx512bf16-2c``; cores used: torch's threads), or ``cpu-<model name>-<cores>c`` where the CPU
    reports no family and model. Never a clock frequency."""
    gpu = info["gpu"]
    if info["device"].startswith("cuda") and gpu["count"]:
        used = gpu.get("used") or [{"name": gpu["names"][0]}]
        return f"{slug(used[0]['name'])}-x{gpu.get('count_used') or len(used)}"
    cores = f"{info.get('torch_threads') or info['cpu_logical_cores']}c"
    if not info.get("cpu_microarchitecture"):
        return f"cpu-{slug(info['cpu_model'])}-{cores}"
    bf16 = "-".join(info.get("cpu_bf16") or [])
    return "-".join(p for p in ("cpu", info["cpu_vendor"], info["cpu_microarchitecture"], bf16, cores) if p)
