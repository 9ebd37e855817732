"""The hardware record and machine id that a benchsuite session adds to pytest-benchmark's ``machine_info``: the
training device, the CPU, and on CUDA the GPUs of the largest world size that runs, which name the results folder
(``results/<machine-id>/``, :func:`benchsuite.telemetry.machine.machine_id`).

The world sizes come from the items pytest kept after deselection (``-k``, ``-m``) whose ranks this node can host,
read once collection is finished, before the first item runs and before the results file is first written: a session
on an 8-GPU host that runs only world size 1 is ``…-x1``, whatever else the scenarios hold.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import torch

from benchsuite.distributed.hosting import world_size_unsupported
from benchsuite.scenario.matrix import ProfileItem, Run, TimingPair, TopUpRun
from benchsuite.telemetry.hardware import cuda_device_count, hardware_info
from benchsuite.telemetry.machine import machine_id


class SessionMachine:
    """The machine a session trains on, and the world sizes of the items it runs.

    Args:
        device: the session's training device.
        nnodes: machines a data-parallel run spreads over (``--nnodes``); a node hosts its share of the ranks.
    """

    def __init__(self, device: torch.device, nnodes: int = 1) -> None:
        self.device, self.nnodes = device, nnodes
        self.world_sizes: list[int] = []
        """World sizes of the kept items this node can host (empty until :meth:`keep`: world size 1)."""

    def keep(self, items: list[pytest.Item]) -> None:
        """Keep the world sizes of the benchsuite items in ``items`` (``session.items`` at ``pytest_collection_finish``:
        what is left after deselection) that this node can host (:func:`world_size_unsupported`); a paired step timing
        trains in this process (world size 1); refused scenario files and other tests are left out."""
        gpus = cuda_device_count() if self.device.type == "cuda" else 0
        cores = os.cpu_count() or 1
        worlds = [world_size(getattr(i, "callspec", None)) for i in items]
        self.world_sizes = [
            w for w in worlds if w is not None and not world_size_unsupported(w, self.device, gpus, cores, self.nnodes)
        ]

    def update(self, machine_info: dict[str, Any]) -> None:
        """Add ``machine_info["benchsuite"]``: :func:`benchsuite.telemetry.hardware.hardware_info` for the largest
        kept world size, and its ``machine_id``."""
        info = hardware_info(self.device, max(self.world_sizes, default=1))
        machine_info["benchsuite"] = {**info, "machine_id": machine_id(info)}


def world_size(callspec: Any) -> int | None:
    """The world size a collected item trains with (from its ``bench_run`` parameter; ``callspec``: the item's
    ``pytest.Function.callspec``, None when not parametrised), or None for anything else."""
    item = callspec.params.get("bench_run") if callspec is not None else None
    if isinstance(item, TimingPair):
        return 1
    if isinstance(item, Run | TopUpRun | ProfileItem):
        return item.case.config.train.world_size
    return None
