"""What hardware a run used: the machine description added to pytest-benchmark's ``machine_info`` and the
machine id that names the results folder (``cpu-amd-epyc-2c``, ``nvidia-h100-80gb-hbm3-x1``)."""

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


def gpu_info() -> dict[str, Any]:
    """GPUs visible to torch: count, names, memory (MiB), compute capability, CUDA/cuDNN and driver versions."""
    if not torch.cuda.is_available():
        return {"count": 0}
    props = [torch.cuda.get_device_properties(i) for i in range(torch.cuda.device_count())]
    return {
        "count": len(props),
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


def hardware_info(device: torch.device) -> dict[str, Any]:
    """Everything about the hardware that pytest-benchmark's machine_info leaves out."""
    import psutil

    return {
        "device": str(device),
        "cpu_model": cpu_brand(),
        "cpu_logical_cores": os.cpu_count(),
        "cpu_physical_cores": psutil.cpu_count(logical=False),
        "torch_threads": torch.get_num_threads(),
        "memory_mib": psutil.virtual_memory().total // 2**20,
        "torch_version": torch.__version__,
        "gpu": gpu_info(),
    }


def machine_id(info: dict[str, Any]) -> str:
    """Folder name for results: ``<gpu-name>-x<count>`` on a CUDA run, ``cpu-<model>-<cores>c`` otherwise."""
    gpu = info["gpu"]
    if info["device"].startswith("cuda") and gpu["count"]:
        return f"{slug(gpu['names'][0])}-x{gpu['count']}"
    return f"cpu-{slug(info['cpu_model'])}-{info['cpu_logical_cores']}c"
