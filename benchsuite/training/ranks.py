"""The ranks a run trains on: one process (:class:`Solo`) or N data-parallel processes (:class:`Ranks`).

The training loop (:mod:`benchsuite.training.loop`) is written once and asks its team to shard each global batch, to
bound timed segments with barriers, to let rank 0 evaluate and broadcast its decision, and to average the training loss.
Data parallelism follows PyTorch's DistributedDataParallel documentation ("Getting Started with Distributed Data
Parallel"): the same initial weights on every rank (DDP broadcasts rank 0's), each rank a shard of the batch, gradients
averaged by all-reduce in the backward pass.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


class Solo:
    """A run on one process: every collective is a no-op."""

    rank = 0
    world_size = 1
    is_leader = True

    def shard(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, float]:
        """This rank's part of a global batch x (B, ...), y (B,), and the loss scale that makes the averaged
        gradient the global batch's mean (1 for one process)."""
        return x, y, 1.0

    def barrier(self) -> None:
        """Wait for every rank."""

    def agree(self, flags: list[bool]) -> list[bool]:
        """Rank 0's ``flags`` on every rank."""
        return flags

    def mean(self, value: float) -> float:
        """The mean of ``value`` over the ranks."""
        return value

    def gather(self, obj: Any) -> list[Any]:
        """``obj`` from every rank, in rank order (on every rank)."""
        return [obj]

    def maximum(self, value: float) -> float:
        """The largest ``value`` over the ranks, the same on every rank (one all-gather on N ranks, none on one).

        For a decision each rank would otherwise take from its own clock: the ranks' clocks differ, and ranks that
        decide differently enter different collectives and wait for each other for ever.
        """
        return max(self.gather(value))

    def wrap(self, model: nn.Module, device: torch.device) -> nn.Module:
        """The module to train: ``model`` itself."""
        return model


class Ranks(Solo):
    """A run on ``torch.distributed``'s initialised process group (gloo on CPU, nccl on CUDA).

    Each global batch is split into ``world_size`` contiguous shards (``torch.tensor_split``: the last may be
    smaller when the batch does not divide), and each rank's mean loss is scaled by ``shard · N / B`` so that DDP's
    gradient average is exactly the global batch's mean gradient, as one process would compute it.
    """

    def __init__(self) -> None:
        import torch.distributed as dist

        self.dist = dist
        self.rank = dist.get_rank()
        self.world_size = dist.get_world_size()
        self.is_leader = self.rank == 0

    def shard(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, float]:
        xs, ys = torch.tensor_split(x, self.world_size)[self.rank], torch.tensor_split(y, self.world_size)[self.rank]
        return xs, ys, len(ys) * self.world_size / len(y)

    def barrier(self) -> None:
        self.dist.barrier()

    def agree(self, flags: list[bool]) -> list[bool]:
        box = [flags if self.is_leader else None]
        self.dist.broadcast_object_list(box, src=0)
        return list(box[0])

    def mean(self, value: float) -> float:
        box = [None] * self.world_size
        self.dist.all_gather_object(box, value)
        return sum(box) / self.world_size

    def gather(self, obj: Any) -> list[Any]:
        box = [None] * self.world_size
        self.dist.all_gather_object(box, obj)
        return box

    def wrap(self, model: nn.Module, device: torch.device) -> nn.Module:
        from torch.nn.parallel import DistributedDataParallel

        ids = [device.index] if device.type == "cuda" else None
        return DistributedDataParallel(model, device_ids=ids)


def communication_share(trainer, data, config, device: torch.device, team: Solo, steps: int = 8) -> float | None:
    """Share of a data-parallel step that gradient all-reduce adds and compute does not hide: 1 − t(no sync) /
    t(sync), from four interleaved blocks (ABBA) of ``steps`` steps with DDP's all-reduce and without it
    (``DistributedDataParallel.no_sync``). Measured after the run (the unsynced steps let the ranks drift apart,
    which no longer matters); None for one process.
    """
    if team.world_size == 1:
        return None
    import contextlib

    from benchsuite.telemetry.clock import Stopwatch
    from benchsuite.training.batches import batches
    from benchsuite.training.build import train_step

    indices = batches(len(data.train_y), config.train.global_batch_size, 4 * steps, torch.Generator(), device)
    seconds = {True: 0.0, False: 0.0}
    for synced in (True, False, False, True):
        watch = Stopwatch(device, barrier=team.barrier)
        with watch, contextlib.nullcontext() if synced else trainer.model.no_sync():
            for _ in range(steps):
                idx = next(indices)
                train_step(trainer, *team.shard(data.train_x[idx], data.train_y[idx]))
        seconds[synced] += watch.elapsed_s
    return max(0.0, 1.0 - seconds[False] / seconds[True]) if seconds[True] > 0 else None
