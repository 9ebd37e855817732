"""The committed reference run nearest in hardware to a new results file, for CI: a benchmark job compares its run
with the reference of the same machine id when there is one (and only then applies the regression gate, since a
gate across different hardware would flag the hardware), else with the closest kind of hardware, shown without a
gate. Never a CPU reference for a GPU run or the reverse.

Closeness, highest first: the same machine id; then the same device type and, on CUDA, the same GPU model, or on a
CPU the same vendor, microarchitecture and native bf16 instructions (the things that change results: see
:func:`benchsuite.telemetry.machine.machine_id`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchsuite.results.files import read_results


@dataclass(frozen=True)
class Nearest:
    """The chosen reference folder, whether it is the same hardware (machine id), and why it was chosen."""

    folder: Path
    same_hardware: bool
    reason: str


def _info(path: Path) -> dict[str, Any]:
    data = read_results(path)
    info = dict(data.get("machine_info", {}).get("benchsuite", {}))
    info.setdefault("machine_id", data.get("benchsuite", {}).get("machine_id"))
    return info


def _gpu_name(info: dict[str, Any]) -> str | None:
    gpu = info.get("gpu") or {}
    used = gpu.get("used") or [{"name": n} for n in gpu.get("names", [])[:1]]
    return used[0]["name"] if used else None


def closeness(new: dict[str, Any], ref: dict[str, Any]) -> tuple[int, list[str]]:
    """A score (0: another device type, never chosen) and the shared traits that earned it."""
    kind = str(new.get("device", "cpu")).split(":")[0]
    if kind != str(ref.get("device", "cpu")).split(":")[0]:
        return 0, []
    shared = [f"device type {kind}"]
    score = 1
    if new.get("machine_id") and new.get("machine_id") == ref.get("machine_id"):
        return 100, [f"machine id {new['machine_id']}"]
    if kind == "cuda":
        if _gpu_name(new) and _gpu_name(new) == _gpu_name(ref):
            score, shared = score + 8, [*shared, f"GPU {_gpu_name(new)}"]
        return score, shared
    for key, weight in (("cpu_vendor", 2), ("cpu_microarchitecture", 4), ("cpu_bf16", 1)):
        if new.get(key) is not None and new.get(key) == ref.get(key):
            score, shared = score + weight, [*shared, f"{key.removeprefix('cpu_')} {new[key] or 'none'}"]
    return score, shared


def nearest_reference(results_file: Path, references: Path) -> Nearest | None:
    """The folder under ``references`` (``results/<machine-id>/``, its newest file read) nearest in hardware to
    ``results_file``; None when no folder has the same device type.

    Raises:
        ValueError: ``results_file`` cannot be read (the message names it). Unreadable reference files are
            skipped.
    """
    new = _info(results_file)
    best: tuple[int, str, Path, list[str]] | None = None
    for folder in sorted(p for p in Path(references).iterdir() if p.is_dir()):
        files = sorted(folder.glob("*.json"))
        if not files or results_file.resolve().parent == folder.resolve():
            continue
        try:
            score, shared = closeness(new, _info(files[-1]))
        except ValueError:
            continue
        if score and (best is None or score > best[0]):
            best = (score, folder.name, folder, shared)
    if best is None:
        return None
    return Nearest(best[2], best[0] == 100, "shares " + ", ".join(best[3]))
