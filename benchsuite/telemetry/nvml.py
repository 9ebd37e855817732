"""One GPU's metrics through NVML (nvidia-ml-py), degrading per metric, always shut down, saying what was measured.

NVML units (NVML API reference): power in mW, total energy in mJ, memory in bytes, clocks in MHz. NVML's "GPU
utilisation" is the share of time *a kernel was running*, not SM occupancy: it is reported as kernel-busy %.

Robustness: a metric whose reader raises anything (``NVMLError_NotSupported``; ``AttributeError`` where the legacy
``pynvml`` 11.x package shadows nvidia-ml-py and lacks newer functions) is dropped with its reason and never retried;
the device handle is looked up inside the same guard (UUID, MIG UUID, then PCI bus id), and NVML is shut down on
every failure path. On a MIG slice, NVML's power and energy belong to the whole board: they are dropped with that
reason instead of being reported for the slice (NVML API reference, "Multi Instance GPU Management").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

MIB = 2**20

#: Metrics NVML reports for the whole board even when the handle is a MIG slice.
BOARD_METRICS = ("power_w",)


def _readers(nvml: Any, handle: Any, utilisation: Callable[[], Any]) -> dict[str, Callable[[], float]]:
    """Metric name (with unit) → reader, for one NVML device handle; ``utilisation`` reads
    ``nvmlDeviceGetUtilizationRates`` once per sample for both of its metrics."""
    return {
        "kernel_busy_pct": lambda: float(utilisation().gpu),
        "mem_busy_pct": lambda: float(utilisation().memory),
        "mem_used_mib": lambda: nvml.nvmlDeviceGetMemoryInfo(handle).used / MIB,
        "power_w": lambda: nvml.nvmlDeviceGetPowerUsage(handle) / 1000.0,
        "sm_clock_mhz": lambda: float(nvml.nvmlDeviceGetClockInfo(handle, nvml.NVML_CLOCK_SM)),
        "temperature_c": lambda: float(nvml.nvmlDeviceGetTemperature(handle, nvml.NVML_TEMPERATURE_GPU)),
        "clock_event_reasons": lambda: float(nvml.nvmlDeviceGetCurrentClocksEventReasons(handle)),
    }


#: NVML's clock-event (throttle) reason bits (``nvmlClocksEventReason*``, NVML API reference, "Clocks Event Reasons")
#: → the name benchsuite reports. Idle and the applications-clocks setting are left out: they are not slowdowns of a
#: busy GPU.
CLOCK_EVENT_REASONS: dict[int, str] = {
    0x4: "sw_power_cap",
    0x8: "hw_slowdown",
    0x10: "sync_boost",
    0x20: "sw_thermal_slowdown",
    0x40: "hw_thermal_slowdown",
    0x80: "hw_power_brake_slowdown",
    0x100: "display_clock_setting",
}


def clock_event_names(bits: float | int) -> list[str]:
    """The named clock-event reasons (:data:`CLOCK_EVENT_REASONS`) set in one sample's ``clock_event_reasons``."""
    value = int(bits)
    return [name for bit, name in CLOCK_EVENT_REASONS.items() if value & bit]


class GpuProbe:
    """Reads one GPU's metrics through NVML; a metric that fails once is dropped with its reason.

    Args:
        nvml: the ``pynvml`` module (or a fake with the same names, for tests).
        handle: the NVML device handle.
        mig: the handle is a MIG slice (board-level metrics are dropped).
    """

    def __init__(self, nvml: Any, handle: Any, mig: bool = False) -> None:
        self.nvml, self.handle, self.mig = nvml, handle, mig
        self._utilisation: Any = None
        self.readers = _readers(nvml, handle, self._utilisation_once)
        self.reasons: dict[str, str] = {}
        """Dropped metric → why."""
        self.energy_supported = not mig
        if mig:
            for name in BOARD_METRICS:
                self._drop(name, "MIG slice: NVML reports it for the whole board")

    @property
    def dropped(self) -> list[str]:
        """The metrics no longer read, in the order they were dropped."""
        return list(self.reasons)

    def _drop(self, name: str, reason: str) -> None:
        self.readers.pop(name, None)
        self.reasons[name] = reason

    def read(self) -> dict[str, float]:
        """One sample of every metric still supported, with the energy counter (``energy_counter_j``, J since the
        driver loaded) where the GPU has one: energy over any clock interval is then the counter's rise across it."""
        out = {}
        self._utilisation = None
        counter = self.energy_j()
        if counter is not None:
            out["energy_counter_j"] = counter
        for name, reader in list(self.readers.items()):
            try:
                out[name] = reader()
            except Exception as exc:  # NVMLError_*, AttributeError (legacy pynvml), ...: never retried
                self._drop(name, f"{type(exc).__name__}: {exc}".rstrip(": "))
        return out

    def _utilisation_once(self) -> Any:
        """``nvmlDeviceGetUtilizationRates`` of this sample, read on first use within :meth:`read`."""
        if self._utilisation is None:
            self._utilisation = self.nvml.nvmlDeviceGetUtilizationRates(self.handle)
        return self._utilisation

    def energy_j(self) -> float | None:
        """Total energy counter in J (NVML gives mJ), or None where the GPU has none (or the handle is a slice)."""
        if not self.energy_supported:
            return None
        try:
            return self.nvml.nvmlDeviceGetTotalEnergyConsumption(self.handle) / 1000.0
        except Exception:  # NotSupported (pre-Volta), AttributeError (legacy pynvml): integrated power instead
            self.energy_supported = False
            return None

    @property
    def description(self) -> str:
        """What this probe measures, for the results (``nvml`` or ``nvml (MIG slice: …)``)."""
        return "nvml (MIG slice: no power or energy, NVML reports them for the whole board)" if self.mig else "nvml"

    def shutdown(self) -> None:
        """Release NVML (never raises)."""
        try:
            self.nvml.nvmlShutdown()
        except Exception:
            pass


def _handle(nvml: Any, props: Any) -> tuple[Any, bool]:
    """(handle, is a MIG slice) for torch device properties: by UUID (GPU-, then MIG-), else by PCI bus id.

    Raises:
        Exception: no lookup worked (the caller reports it and shuts NVML down).
    """
    uuid = str(getattr(props, "uuid", "") or "")
    for prefix in ("", "GPU-", "MIG-"):
        if prefix and uuid.startswith(("GPU-", "MIG-")):
            continue
        try:
            handle = nvml.nvmlDeviceGetHandleByUUID(prefix + uuid)
        except Exception:
            continue
        return handle, _is_mig(nvml, handle, prefix + uuid)
    bus = f"{getattr(props, 'pci_domain_id', 0):08x}:{getattr(props, 'pci_bus_id', 0):02x}:"
    return nvml.nvmlDeviceGetHandleByPciBusId(f"{bus}{getattr(props, 'pci_device_id', 0):02x}.0"), False


def _is_mig(nvml: Any, handle: Any, uuid: str) -> bool:
    try:
        return bool(nvml.nvmlDeviceIsMigDeviceHandle(handle))
    except Exception:
        return uuid.startswith("MIG-")


def open_gpu_probe(device: torch.device, nvml: Any = None) -> tuple[GpuProbe | None, str | None]:
    """An NVML probe for the torch CUDA ``device``, matched by UUID (else PCI bus id), not by index.

    Returns:
        (probe, None), or (None, reason) when there is no GPU, no driver, no nvidia-ml-py, or no handle for the
        device (NVML is then shut down again).
    """
    if device.type != "cuda":
        return None, "not a CUDA run"
    try:
        nvml = nvml or __import__("pynvml")
        nvml.nvmlInit()
    except ImportError:
        return None, "nvidia-ml-py is not installed"
    except Exception as exc:  # NVMLError_LibraryNotFound, DriverNotLoaded, ...: no GPU telemetry, CPU goes on
        return None, f"NVML unavailable: {exc}"
    try:
        handle, mig = _handle(nvml, torch.cuda.get_device_properties(device))
    except Exception as exc:
        GpuProbe(nvml, None).shutdown()
        return None, f"NVML has no handle for {device}: {type(exc).__name__}: {exc}"
    return GpuProbe(nvml, handle, mig), None
