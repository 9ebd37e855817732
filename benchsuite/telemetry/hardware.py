"""What hardware a run used, read off this machine: the training device, the CPU (its marketing name and CPUID
identity), the GPUs visible to torch and the ones trained on, the driver, torch's threads and version, and on a CUDA
run the state of each GPU trained on (``gpu_state``: persistence mode, clocks, other compute processes). The session
adds it to pytest-benchmark's ``machine_info``; the machine id that names the results folder is derived from it by
:func:`benchsuite.telemetry.machine.machine_id`."""

from __future__ import annotations

import os
import platform
from typing import Any

import torch

from benchsuite.telemetry.machine import identity_from_cpuinfo
from benchsuite.telemetry.nvml import read_gpu_state


def resolve_device(choice: str) -> torch.device:
    """``auto`` → ``cuda`` when a CUDA device is visible, else ``cpu``; ``cpu``/``cuda`` are taken as given."""
    if choice == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(choice)


def cpu_brand() -> str:
    """The CPU's marketing name from py-cpuinfo, else ``platform.processor()``."""
    try:
        import cpuinfo

        brand = cpuinfo.get_cpu_info().get("brand_raw", "")
    except Exception:  # py-cpuinfo parses /proc and vendor tools; any failure just loses the name
        brand = ""
    return brand or platform.processor() or platform.machine()


def cpu_identity() -> dict[str, Any]:
    """Vendor, CPUID family/model/stepping, microarchitecture and native-bf16 features of this CPU (py-cpuinfo);
    empty values where the platform does not report them."""
    try:
        import cpuinfo

        info = cpuinfo.get_cpu_info()
    except Exception:  # py-cpuinfo parses /proc and vendor tools; any failure just loses the identity
        info = {}
    return identity_from_cpuinfo(info)


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
        used = [
            {"index": i, "name": props[i].name, "uuid": str(u) if (u := getattr(props[i], "uuid", None)) else None}
            for i in indices
        ]
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
    data-parallel ranks a run of the session trains on (the GPUs it uses: the session counts only the items it kept
    after deselection that this node can host, never every collected one)."""
    import psutil

    gpu = gpu_info(device, world_size)
    return {
        "device": str(device),
        "cpu_model": cpu_brand(),
        **cpu_identity(),
        "cpu_logical_cores": os.cpu_count(),
        "cpu_physical_cores": psutil.cpu_count(logical=False),
        "torch_threads": torch.get_num_threads(),
        "memory_mib": psutil.virtual_memory().total // 2**20,
        "torch_version": torch.__version__,
        "gpu": gpu,
        **({"gpu_state": gpu_state(gpu["used"])} if gpu.get("used") else {}),
    }


def gpu_state(used: list[dict[str, Any]], nvml: Any = None) -> list[dict[str, Any]]:
    """Machine state of each GPU the session trains on (``used``: :func:`gpu_info`'s entries), read once at session
    start through NVML by :func:`benchsuite.telemetry.nvml.read_gpu_state`: persistence mode, SM application clock
    and its default (MHz), whether clocks are locked, other compute processes (count and pids). Each entry carries
    ``index`` and ``name``; a field NVML could not read is None with its reason under ``unread``. Never raises."""
    names = {g["index"]: g.get("name") for g in used}
    return [{"name": names[s["index"]], **s} for s in read_gpu_state([g["index"] for g in used], nvml)]


def cuda_unavailable_reason() -> str | None:
    """Why ``--device cuda`` cannot train on this machine, or None when torch sees a CUDA device: a torch build
    without CUDA (a CPU wheel: ``torch.version.cuda`` is None; ROCm builds report ``torch.version.hip`` and use the
    same ``cuda`` device type), or no device visible to it (no driver, no GPU, ``CUDA_VISIBLE_DEVICES`` hiding them)."""
    if torch.version.cuda is None and getattr(torch.version, "hip", None) is None:
        return f"this torch build has no CUDA (torch {torch.__version__})"
    if not torch.cuda.is_available():
        visible = os.environ.get("CUDA_VISIBLE_DEVICES")
        return "no CUDA device is visible" + (f" (CUDA_VISIBLE_DEVICES={visible!r})" if visible is not None else "")
    return None


def cuda_device_count() -> int:
    """GPUs visible to torch (0 without CUDA)."""
    return torch.cuda.device_count() if torch.cuda.is_available() else 0
