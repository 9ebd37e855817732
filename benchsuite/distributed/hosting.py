"""Whether this node can host the ranks of a world size, and how many torch threads each rank gets."""

from __future__ import annotations

import torch


def world_size_unsupported(world_size: int, device: torch.device, gpus: int, cores: int, nnodes: int = 1) -> str | None:
    """Why ``world_size`` ranks cannot train here (the case is then skipped), or None.

    NCCL refuses two ranks on one GPU, so a CUDA run needs a GPU per local rank; a CPU run needs a core per local
    rank (one torch thread each), or the ranks would measure each other's contention.
    """
    local = world_size // max(nnodes, 1)
    if device.type == "cuda" and local > gpus:
        return (
            f"world size {world_size} needs {local} GPUs on this node, it has {gpus} "
            "(NCCL refuses two ranks on one GPU)"
        )
    if device.type == "cpu" and local > cores:
        return f"world size {world_size} needs {local} cores on this node (one per rank), it has {cores}"
    return None


def threads_per_rank(world_size: int, cores: int, nnodes: int = 1) -> int:
    """torch threads of each rank on a CPU: the node's cores shared by its ranks (at least one)."""
    return max(1, cores // max(1, world_size // max(nnodes, 1)))


class Unhostable(Exception):
    """A world size this machine cannot host; the message says why (the item is skipped with it)."""
