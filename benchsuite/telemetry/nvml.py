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

import os
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


#: The machine-state fields :func:`read_gpu_state` records for each GPU, None where NVML could not say.
GPU_STATE_FIELDS = (
    "persistence_mode",
    "app_clock_sm_mhz",
    "default_app_clock_sm_mhz",
    "clocks_locked",
    "other_process_count",
    "other_process_pids",
)

#: ``nvmlClocksEventReasonApplicationsClocksSetting`` (NVML API reference, "Clocks Event Reasons"): clocks are held
#: at application-specific values.
APP_CLOCKS_SETTING = 0x2


def _guarded(read: Callable[[], Any], field: str, unread: dict[str, str]) -> Any:
    """``read()``, or None with the reason in ``unread[field]`` when it raises (NotSupported, NoPermission,
    AttributeError where the installed pynvml lacks the function)."""
    try:
        return read()
    except Exception as exc:
        unread[field] = f"{type(exc).__name__}: {exc}".rstrip(": ")
        return None


def device_state(nvml: Any, handle: Any, pid: int | None = None) -> dict[str, Any]:
    """The machine state of one GPU that distorts training-speed figures, read once through NVML.

    Fields (each None, with its reason under ``unread``, where its NVML call raised):

    - ``persistence_mode``: ``"on"``/``"off"`` (``nvmlDeviceGetPersistenceMode``: ``NVML_FEATURE_ENABLED`` /
      ``NVML_FEATURE_DISABLED``; off, the driver may unload between processes and the first CUDA call pays for it).
    - ``app_clock_sm_mhz`` / ``default_app_clock_sm_mhz``: SM application clock and its default, in MHz
      (``nvmlDeviceGetApplicationsClock`` / ``nvmlDeviceGetDefaultApplicationsClock`` with ``NVML_CLOCK_SM``).
    - ``clocks_locked``: True when the application clock differs from its default or the clock-event reasons
      (``nvmlDeviceGetCurrentClocksEventReasons``) carry the applications-clocks-setting bit (0x2); False when
      what could be read says neither; None when neither could be read. NVML has no getter for clocks locked with
      ``nvidia-smi --lock-gpu-clocks`` (``nvmlDeviceSetGpuLockedClocks``): only the reason bit can show those.
    - ``other_process_count`` / ``other_process_pids``: compute processes on this GPU other than ``pid`` (this
      process by default), from ``nvmlDeviceGetComputeRunningProcesses``; pids sorted.

    Never raises.
    """
    pid = os.getpid() if pid is None else pid
    unread: dict[str, str] = {}
    mode = _guarded(lambda: nvml.nvmlDeviceGetPersistenceMode(handle), "persistence_mode", unread)
    app = _guarded(
        lambda: int(nvml.nvmlDeviceGetApplicationsClock(handle, nvml.NVML_CLOCK_SM)), "app_clock_sm_mhz", unread
    )
    default = _guarded(
        lambda: int(nvml.nvmlDeviceGetDefaultApplicationsClock(handle, nvml.NVML_CLOCK_SM)),
        "default_app_clock_sm_mhz",
        unread,
    )
    bits = _guarded(lambda: int(nvml.nvmlDeviceGetCurrentClocksEventReasons(handle)), "clock_event_reasons", unread)
    others = _guarded(
        lambda: sorted(
            p.pid for p in nvml.nvmlDeviceGetComputeRunningProcesses(handle) if isinstance(p.pid, int) and p.pid != pid
        ),
        "other_process_pids",
        unread,
    )
    bits_reason = unread.pop("clock_event_reasons", None)
    locked = None
    if app is not None and default is not None:
        locked = app != default
    if bits is not None:
        locked = bool(locked) or bool(bits & APP_CLOCKS_SETTING)
    elif locked is None:
        clock_reason = unread.get("app_clock_sm_mhz") or unread.get("default_app_clock_sm_mhz")
        unread["clocks_locked"] = f"{clock_reason}; clock-event reasons: {bits_reason}"
    if others is None:
        unread["other_process_count"] = unread["other_process_pids"]
    return {
        "persistence_mode": None if mode is None else ("on" if mode == nvml.NVML_FEATURE_ENABLED else "off"),
        "app_clock_sm_mhz": app,
        "default_app_clock_sm_mhz": default,
        "clocks_locked": locked,
        "other_process_count": None if others is None else len(others),
        "other_process_pids": others,
        "unread": unread,
    }


def read_gpu_state(indices: list[int], nvml: Any = None) -> list[dict[str, Any]]:
    """:func:`device_state` of each torch CUDA device index in ``indices`` (``index`` added), NVML opened once and
    always shut down; each device is matched to its NVML handle by UUID, else PCI bus id (as :func:`open_gpu_probe`).

    Returns one entry per index, in order. Never raises: without nvidia-ml-py, a driver or a handle, every field is
    None with that reason under ``unread``.
    """

    def unavailable(index: int, reason: str) -> dict[str, Any]:
        return {"index": index, **dict.fromkeys(GPU_STATE_FIELDS), "unread": dict.fromkeys(GPU_STATE_FIELDS, reason)}

    try:
        nvml = nvml or __import__("pynvml")
        nvml.nvmlInit()
    except ImportError:
        return [unavailable(i, "nvidia-ml-py is not installed") for i in indices]
    except Exception as exc:  # NVMLError_LibraryNotFound, DriverNotLoaded, ...
        return [unavailable(i, f"NVML unavailable: {exc}") for i in indices]
    out = []
    try:
        for index in indices:
            try:
                handle, _ = _handle(nvml, torch.cuda.get_device_properties(index))
            except Exception as exc:
                out.append(unavailable(index, f"NVML has no handle for cuda:{index}: {type(exc).__name__}: {exc}"))
                continue
            out.append({"index": index, **device_state(nvml, handle)})
    finally:
        GpuProbe(nvml, None).shutdown()
    return out
