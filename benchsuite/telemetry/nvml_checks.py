"""The NVML checks of ``benchsuite doctor``: that the real NVML (nvidia-ml-py) behaves as the fakes of the tests
assume, read through the very code the telemetry uses (:func:`benchsuite.telemetry.nvml.open_gpu_probe`,
:class:`~benchsuite.telemetry.nvml.GpuProbe`, :func:`~benchsuite.telemetry.nvml.device_state`).

NVML units (NVML API reference, https://docs.nvidia.com/deploy/nvml-api/): power in mW (``nvmlDeviceGetPowerUsage``),
total energy in mJ since the driver was loaded (``nvmlDeviceGetTotalEnergyConsumption``), clocks in MHz
(``nvmlDeviceGetClockInfo``, ``nvmlDeviceGetApplicationsClock``), memory in bytes; benchsuite reports W, J, MHz, MiB.

:func:`nvml_checks` opens NVML once for all five checks and always shuts it down. Each check never raises: an
exception becomes a ``fail`` with ``type(exc).__name__: message``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import torch

from benchsuite.telemetry import hardware
from benchsuite.telemetry.checks import Check
from benchsuite.telemetry.clock import now, synchronize
from benchsuite.telemetry.metrics import SLOWDOWNS  # set while idle, they hold the clocks down
from benchsuite.telemetry.nvml import GpuProbe, clock_event_names, device_state, open_gpu_probe

#: The checks :func:`nvml_checks` returns, in order.
NVML_CHECKS = ("nvml_handle", "nvml_metrics", "nvml_energy_counter", "nvml_clock_events", "gpu_state")

#: :func:`open_gpu_probe`'s reason when the package is missing: a ``warn`` (the GPU figures are missing, the run
#: works); any other reason it gives (no driver library, no handle for the device) is a ``fail``.
NOT_INSTALLED = "nvidia-ml-py is not installed"

#: Seconds the default :func:`default_busy` keeps the GPU busy.
BUSY_S = 0.5


def error_text(exc: BaseException) -> str:
    """``type(exc).__name__: message`` (the name alone for an empty message)."""
    return f"{type(exc).__name__}: {exc}".rstrip(": ")


def never_raises(name: str) -> Callable[[Callable[..., Check]], Callable[..., Check]]:
    """Decorate a check called ``name``: any exception it raises becomes a ``fail`` saying so."""

    def wrap(check: Callable[..., Check]) -> Callable[..., Check]:
        @functools.wraps(check)
        def guarded(*args: Any, **kwargs: Any) -> Check:
            try:
                return check(*args, **kwargs)
            except Exception as exc:
                return Check(name, "fail", f"the check raised {error_text(exc)}", {"error": error_text(exc)})

        return guarded

    return wrap


def cuda_missing(device: torch.device) -> str | None:
    """Why the CUDA ``device`` cannot be used here (:func:`hardware.cuda_unavailable_reason`), None when it can or
    the device is not CUDA."""
    return hardware.cuda_unavailable_reason() if device.type == "cuda" else None


def default_busy(device: torch.device, seconds: float = BUSY_S, size: int = 4096) -> None:
    """Keep ``device`` busy for about ``seconds``: fp32 matmuls of ``size``², synchronised every 8 (so the wall time
    is the GPU's), then a final synchronise."""
    a = torch.randn(size, size, device=device)
    out = torch.empty_like(a)
    end = now() + seconds
    while now() < end:
        for _ in range(8):
            torch.mm(a, a, out=out)
        synchronize(device)
    synchronize(device)


def nvml_checks(device: torch.device, *, nvml: Any = None, busy: Callable[[], None] | None = None) -> list[Check]:
    """The five NVML checks (:data:`NVML_CHECKS`) of the CUDA ``device``, NVML opened once and always shut down.

    Args:
        device: the training device; on a CPU every check is ``skipped``.
        nvml: the ``pynvml`` module or a fake (None imports the real one).
        busy: keeps the GPU busy for about 0.5-1 s, for the energy counter (default: :func:`default_busy`).

    Returns every check ``skipped`` on a CPU or where CUDA is unavailable (the device check says why); every check
    ``warn`` without nvidia-ml-py, ``fail`` when NVML has no driver library or no handle for the device. Never raises.
    """
    try:
        if device.type != "cuda":
            return [Check(n, "skipped", f"not a CUDA run ({device}): NVML does not apply") for n in NVML_CHECKS]
        if missing := cuda_missing(device):
            return [Check(n, "skipped", f"no CUDA device for NVML: {missing}") for n in NVML_CHECKS]
        probe, reason = open_gpu_probe(device, nvml)
    except Exception as exc:
        probe, reason = None, f"opening NVML raised {error_text(exc)}"
    if probe is None:
        status = "warn" if reason == NOT_INSTALLED else "fail"
        text = f"{reason}: no GPU power, energy, clocks, temperature or machine state will be recorded"
        return [Check(n, status, text, {"reason": reason}) for n in NVML_CHECKS]
    try:
        handle = nvml_handle_check(probe, device)
        metrics = nvml_metrics_check(probe)
        events = nvml_clock_events_check(probe)  # before the busy period: the rule is about an idle GPU
        state = gpu_state_check(probe)
        energy = nvml_energy_counter_check(probe, busy or functools.partial(default_busy, device))
    finally:
        probe.shutdown()
    return [handle, metrics, energy, events, state]


def _bare_uuid(uuid: str) -> str:
    return uuid.removeprefix("GPU-").removeprefix("MIG-").lower()


@never_raises("nvml_handle")
def nvml_handle_check(probe: GpuProbe, device: torch.device) -> Check:
    """The NVML handle :func:`open_gpu_probe` matched to torch's device (``nvmlDeviceGetHandleByUUID``, else
    ``nvmlDeviceGetHandleByPciBusId``), confirmed with ``nvmlDeviceGetUUID``; ``warn`` on a MIG slice
    (``nvmlDeviceIsMigDeviceHandle``): NVML reports power and energy for the whole board, so they are dropped (NVML
    API reference, "Multi Instance GPU Management")."""
    torch_uuid = str(getattr(torch.cuda.get_device_properties(device), "uuid", "") or "")
    details: dict[str, Any] = {"torch_uuid": torch_uuid, "nvml_uuid": None, "matched_by": None, "mig": probe.mig}
    try:
        raw = probe.nvml.nvmlDeviceGetUUID(probe.handle)
        nvml_uuid = raw.decode() if isinstance(raw, bytes) else str(raw)
    except Exception as exc:
        details["nvml_uuid_unread"] = error_text(exc)
        how = f"NVML's UUID of the handle unread ({error_text(exc)})"
    else:
        same = bool(torch_uuid) and _bare_uuid(nvml_uuid) == _bare_uuid(torch_uuid)
        details.update(nvml_uuid=nvml_uuid, matched_by="uuid" if same else "pci_bus_id")
        how = f"NVML {nvml_uuid}, matched by " + ("UUID" if same else "PCI bus id")
    if probe.mig:
        return Check(
            "nvml_handle",
            "warn",
            f"{device} is a MIG slice ({how}): NVML's power and energy are the whole board's, so they are dropped",
            details,
        )
    return Check("nvml_handle", "ok", f"{device} is {how}", details)


@never_raises("nvml_metrics")
def nvml_metrics_check(probe: GpuProbe) -> Check:
    """One :meth:`GpuProbe.read` sample: the metrics read (units in their names: ``_pct``, ``_mib``, ``_w``, ``_mhz``,
    ``_c``, ``_j``; NVML's mW and mJ converted) and those dropped with their reasons; ``warn`` when any is dropped
    (it is missing from every run's telemetry on this machine)."""
    values = probe.read()
    dropped = dict(probe.reasons)
    read = ", ".join(f"{name} {value:g}" for name, value in values.items()) or "nothing"
    details = {"values": {k: round(v, 3) for k, v in values.items()}, "dropped": dropped}
    if dropped:
        lost = "; ".join(f"{name} ({reason})" for name, reason in dropped.items())
        return Check("nvml_metrics", "warn", f"dropped {lost}; read {read}", details)
    return Check("nvml_metrics", "ok", f"read {read}", details)


def _no_energy_reason(probe: GpuProbe) -> str:
    """Why :meth:`GpuProbe.energy_j` gave None: a MIG slice, or the error of the NVML call itself."""
    if probe.mig:
        return "MIG slice: NVML's energy counter is the whole board's"
    try:
        probe.nvml.nvmlDeviceGetTotalEnergyConsumption(probe.handle)
    except Exception as exc:
        return error_text(exc)
    return "the counter failed once and is no longer read"


@never_raises("nvml_energy_counter")
def nvml_energy_counter_check(probe: GpuProbe, busy: Callable[[], None]) -> Check:
    """The energy counter (``nvmlDeviceGetTotalEnergyConsumption``, mJ, Volta and newer) read through
    :meth:`GpuProbe.energy_j` (J) before and after ``busy()``, timed with :func:`benchsuite.telemetry.clock.now`.

    ``ok`` when it rose (details: joules, seconds, mean W = J / s); ``warn`` without a counter (energy is then
    integrated from power samples, which NVML averages over 1 s on Ampere and newer: NVML API reference,
    ``nvmlDeviceGetPowerUsage``) or when it did not rise; ``fail`` when ``busy`` raised.
    """
    start = probe.energy_j()
    if start is None:
        reason = _no_energy_reason(probe)
        then = "no energy is reported" if probe.mig else "energy will be integrated from 1-s-averaged power samples"
        return Check("nvml_energy_counter", "warn", f"no energy counter ({reason}): {then}", {"reason": reason})
    t0 = now()
    busy()
    seconds = now() - t0
    end = probe.energy_j()
    if end is None:
        reason = _no_energy_reason(probe)
        return Check(
            "nvml_energy_counter",
            "warn",
            f"the energy counter read {start:.1f} J, then failed ({reason}): energy will be integrated from power",
            {"start_j": start, "reason": reason},
        )
    joules = end - start
    mean_w = joules / seconds if seconds > 0 else None
    details = {"start_j": start, "end_j": end, "joules": joules, "seconds": seconds, "mean_w": mean_w}
    if joules <= 0:
        text = f"the energy counter did not rise over {seconds:.2f} s of work ({start:.1f} J → {end:.1f} J)"
        return Check("nvml_energy_counter", "warn", text, details)
    watts = f"{mean_w:.0f} W" if mean_w is not None else "no mean power (no time passed)"
    return Check("nvml_energy_counter", "ok", f"rose {joules:.1f} J over {seconds:.2f} s busy: {watts}", details)


@never_raises("nvml_clock_events")
def nvml_clock_events_check(probe: GpuProbe) -> Check:
    """The current clock-event reasons (``nvmlDeviceGetCurrentClocksEventReasons``, a bit mask, NVML API reference
    "Clocks Event Reasons"), named with :func:`clock_event_names`; ``warn`` when a slowdown (:data:`SLOWDOWNS`) is
    set while idle, or when the call is unsupported (throttling will then not be summarised)."""
    try:
        bits = int(probe.nvml.nvmlDeviceGetCurrentClocksEventReasons(probe.handle))
    except Exception as exc:
        text = f"nvmlDeviceGetCurrentClocksEventReasons failed ({error_text(exc)}): throttling will not be summarised"
        return Check("nvml_clock_events", "warn", text, {"error": error_text(exc)})
    names = clock_event_names(bits)
    slow = [name for name in names if name in SLOWDOWNS]
    details = {"bits": bits, "hex": hex(bits), "names": names, "idle": bool(bits & 0x1)}
    if slow:
        text = f"slowdown set while idle: {', '.join(slow)} ({hex(bits)}): clocks are held down before any work"
        return Check("nvml_clock_events", "warn", text, details)
    idle = " (idle)" if bits & 0x1 else ""
    text = f"clock-event reasons {hex(bits)}{idle}: {', '.join(names) or 'no slowdown'}"
    return Check("nvml_clock_events", "ok", text, details)


@never_raises("gpu_state")
def gpu_state_check(probe: GpuProbe) -> Check:
    """:func:`device_state` (``nvmlDeviceGetPersistenceMode``, ``nvmlDeviceGetApplicationsClock`` and
    ``nvmlDeviceGetDefaultApplicationsClock`` in MHz, ``nvmlDeviceGetCurrentClocksEventReasons``,
    ``nvmlDeviceGetComputeRunningProcesses``): ``warn`` when other compute processes share the GPU (they slow the
    run), persistence mode is off (the driver may unload between runs and the next first CUDA call pays for loading
    it: NVIDIA, "Driver Persistence"), or a field could not be read (the report cannot warn about it). Clocks not
    locked is said but ``ok``: it is the common case."""
    state = device_state(probe.nvml, probe.handle)
    pids, mode, unread = state["other_process_pids"], state["persistence_mode"], state["unread"]
    warn = bool(pids) or mode == "off" or bool(unread)
    parts = [f"persistence mode {mode}"] if mode is not None else []
    if pids is not None:
        if not pids:
            parts.append("no other compute process")
        elif len(pids) == 1:
            parts.append(f"1 other compute process on the GPU (pid {pids[0]})")
        else:
            parts.append(f"{len(pids)} other compute processes on the GPU (pids {', '.join(map(str, pids))})")
    app, default = state["app_clock_sm_mhz"], state["default_app_clock_sm_mhz"]
    clocks = {True: "clocks locked", False: "clocks not locked", None: "clock lock unknown"}[state["clocks_locked"]]
    if app is not None and default is not None:
        clocks += f" (SM application clock {app} MHz, default {default} MHz)"
    parts.append(clocks)
    if unread:
        parts.append("unread: " + "; ".join(f"{name} ({reason})" for name, reason in unread.items()))
    return Check("gpu_state", "warn" if warn else "ok", "; ".join(parts), state)
