"""What hardware a run used: the machine description added to pytest-benchmark's ``machine_info`` and the
machine id that names the results folder (``cpu-amd-zen5-avx512bf16-2c``, ``nvidia-h100-80gb-hbm3-x1``).

The id names what changes results: the CPU's vendor and microarchitecture (from its CPUID family and model) and the
instruction-set features that change training speed (native bf16: AVX512-BF16 or AMX), never a clock frequency.
bf16 autocast on a CPU without them is emulated and several times slower than fp32."""

from __future__ import annotations

import os
import platform
import re
from typing import Any

import torch


def resolve_device(choice: str) -> torch.device:
    """``auto`` → ``cuda`` when a CUDA device is visible, else ``cpu``; ``cpu``/``cuda`` are taken as given."""
    if choice == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(choice)


def slug(text: str) -> str:
    """Lower-case, drop trademark marks and clock speeds, join words with ``-``: ``AMD EPYC 7B13`` → ``amd-epyc-7b13``."""
    text = re.sub(r"\((r|tm)\)|@.*$|\bcpu\b|\bprocessor\b", " ", text.lower())
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-") or "unknown"


def cpu_brand() -> str:
    """The CPU's marketing name from py-cpuinfo, else ``platform.processor()``."""
    try:
        import cpuinfo

        brand = cpuinfo.get_cpu_info().get("brand_raw", "")
    except Exception:  # py-cpuinfo parses /proc and vendor tools; any failure just loses the name
        brand = ""
    return brand or platform.processor() or platform.machine()


#: CPU microarchitectures: (vendor, CPUID family) → (first model, last model, name) ranges. Sources: AMD Processor
#: Programming Reference (PPR) manuals for families 17h, 19h and 1Ah; Intel, "Intel Architecture and Processor
#: Identification with CPUID Model and Family Numbers" (developer documentation).
MICROARCHITECTURES: dict[tuple[str, int], tuple[tuple[int, int, str], ...]] = {
    ("amd", 0x17): ((0x00, 0x2F, "zen"), (0x30, 0xFF, "zen2")),
    ("amd", 0x19): ((0x00, 0x0F, "zen3"), (0x10, 0x1F, "zen4"), (0x20, 0x5F, "zen3"), (0x60, 0xAF, "zen4")),
    ("amd", 0x1A): ((0x00, 0xFF, "zen5"),),
    ("intel", 6): ((0x3F, 0x3F, "haswell"), (0x4F, 0x4F, "broadwell"), (0x55, 0x55, "skylakex"),
                   (0x6A, 0x6C, "icelake"), (0x7D, 0x7E, "icelake"), (0x8C, 0x8D, "tigerlake"),
                   (0x8E, 0x8E, "kabylake"), (0x9E, 0x9E, "coffeelake"), (0x8F, 0x8F, "sapphirerapids"),
                   (0x97, 0x9A, "alderlake"), (0xAD, 0xAE, "graniterapids"), (0xB7, 0xBF, "raptorlake"),
                   (0xCF, 0xCF, "emeraldrapids")),
}  # fmt: skip

#: CPU flags (as Linux names them) that give native bf16 matrix instructions, and their tag in the machine id.
BF16_FLAGS = {"amx_bf16": "amx", "avx512_bf16": "avx512bf16"}

_VENDORS = {"AuthenticAMD": "amd", "GenuineIntel": "intel"}


def cpu_identity() -> dict[str, Any]:
    """Vendor, CPUID family/model/stepping, microarchitecture and native-bf16 features of this CPU (py-cpuinfo);
    empty values where the platform does not report them."""
    try:
        import cpuinfo

        info = cpuinfo.get_cpu_info()
    except Exception:  # py-cpuinfo parses /proc and vendor tools; any failure just loses the identity
        info = {}
    return identity_from_cpuinfo(info)


def identity_from_cpuinfo(info: dict[str, Any]) -> dict[str, Any]:
    """:func:`cpu_identity` from a py-cpuinfo record (``cpuinfo.get_cpu_info()``; pytest-benchmark keeps one in
    every results file's ``machine_info.cpu``)."""
    vendor = _VENDORS.get(info.get("vendor_id_raw", ""), slug(info.get("vendor_id_raw", "") or "unknown"))
    family, model = info.get("family"), info.get("model")
    flags = set(info.get("flags", []))
    return {
        "cpu_vendor": vendor, "cpu_family": family, "cpu_model_number": model, "cpu_stepping": info.get("stepping"),
        "cpu_microarchitecture": microarchitecture(vendor, family, model),
        "cpu_bf16": sorted(tag for flag, tag in BF16_FLAGS.items() if flag in flags),
    }  # fmt: skip


def microarchitecture(vendor: str, family: int | None, model: int | None) -> str | None:
    """``zen3``, ``sapphirerapids``, ... from the table above; ``f25m17`` for a family/model it does not know; None
    without CPUID numbers."""
    if family is None or model is None:
        return None
    for first, last, name in MICROARCHITECTURES.get((vendor, family), ()):
        if first <= model <= last:
            return name
    return f"f{family}m{model}"


def gpu_info(device: torch.device | None = None, world_size: int = 1) -> dict[str, Any]:
    """GPUs visible to torch (count, names, memory in MiB, compute capability, CUDA/cuDNN and driver versions) and,
    on a CUDA run, the ones the session trains on: ``used`` (index, name and UUID of each) and ``count_used``. One
    process trains on ``device``; data-parallel ranks on ``cuda:0`` … ``cuda:<world_size - 1>`` (rank r on its
    local rank's GPU)."""
    if not torch.cuda.is_available():
        return {"count": 0}
    props = [torch.cuda.get_device_properties(i) for i in range(torch.cuda.device_count())]
    used = []
    if device is not None and device.type == "cuda":
        first = device.index if device.index is not None else torch.cuda.current_device()
        indices = range(min(world_size, len(props))) if world_size > 1 else [first]
        used = [{"index": i, "name": props[i].name, "uuid": str(u) if (u := getattr(props[i], "uuid", None)) else None}
                for i in indices]  # fmt: skip
    return {
        "count": len(props),
        "used": used,
        "count_used": len(used),
        "names": [p.name for p in props],
        "memory_mib": [p.total_memory // 2**20 for p in props],
        "compute_capability": [f"{p.major}.{p.minor}" for p in props],
        "cuda_version": torch.version.cuda,
        "cudnn_version": torch.backends.cudnn.version(),
        "driver_version": nvml_driver_version(),
    }


def nvml_driver_version() -> str | None:
    """The NVIDIA driver version through NVML (nvidia-ml-py), or None without a driver."""
    try:
        import pynvml

        pynvml.nvmlInit()
        try:
            version = pynvml.nvmlSystemGetDriverVersion()
        finally:
            pynvml.nvmlShutdown()
    except Exception:  # NVMLError_LibraryNotFound on machines without a driver, ImportError without the package
        return None
    return version.decode() if isinstance(version, bytes) else version


def hardware_info(device: torch.device, world_size: int = 1) -> dict[str, Any]:
    """Everything about the hardware that pytest-benchmark's machine_info leaves out; ``world_size``: the most
    data-parallel ranks a run of the session trains on (the GPUs it uses)."""
    import psutil

    return {
        "device": str(device),
        "cpu_model": cpu_brand(),
        **cpu_identity(),
        "cpu_logical_cores": os.cpu_count(),
        "cpu_physical_cores": psutil.cpu_count(logical=False),
        "torch_threads": torch.get_num_threads(),
        "memory_mib": psutil.virtual_memory().total // 2**20,
        "torch_version": torch.__version__,
        "gpu": gpu_info(device, world_size),
    }


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
