"""Data serving: the stream of (x, y) batches a run trains on.

- preloaded: index batches gathered from tensors already on the device (a fresh permutation per epoch, moved to the
  device once per epoch and sliced there: no host-to-device copy per step).
- dataloader: a ``torch.utils.data.DataLoader`` over CPU tensors (``num_workers``, ``pin_memory``,
  ``prefetch_factor``), each batch copied to the device (``non_blocking`` when pinned); a new loader iterator each
  epoch (workers start again, as without ``persistent_workers``).

Both draw the same permutation per epoch from the run's generator (the DataLoader takes its batches from a
``batch_sampler``), so for one seed every loader serves the same samples in the same order: steps-to-target is the
same, and a comparison of loaders measures serving alone.

The training loop times how long it waits for each next batch, which gives the input-stall fraction.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.utils.data import DataLoader, TensorDataset

from benchsuite.specs.training import DataLoaderSpec, LoaderSpec, PreloadedLoader
from benchsuite.workloads.datasets import Dataset

Batch = tuple[torch.Tensor, torch.Tensor]


def epoch_batches(n: int, batch_size: int, generator: torch.Generator) -> Iterator[Iterator[torch.Tensor]]:
    """Each epoch's index batches (CPU): a fresh permutation of ``n`` from ``generator`` (drawn when the epoch
    begins), cut into ``batch_size`` slices as they are asked for (the last may be short)."""
    while True:
        order = torch.randperm(n, generator=generator)
        yield (order[start : start + batch_size] for start in range(0, n, batch_size))


#: Device types whose host-to-device copies go through pinned memory, non-blocking (CUDA: "CUDA semantics: use pinned
#: memory buffers", PyTorch documentation).
PINNED_COPY_DEVICES = frozenset({"cuda"})


def epoch_order_on(order: torch.Tensor, device: torch.device) -> torch.Tensor:
    """The permutation ``order`` (n,) int64 on ``device``, copied without blocking the host.

    A copy from pageable host memory to a CUDA device is a blocking ``cudaMemcpyAsync`` plus a stream
    synchronisation ("CUDA semantics: use pinned memory buffers", PyTorch documentation;
    ``torch.cuda.set_sync_debug_mode`` flags it): the host would wait for every queued step before it could launch
    the next. On CUDA the permutation is pinned first and copied with ``non_blocking=True`` (the caching host
    allocator keeps the pinned block until the copy is done); on a CPU it is returned as it is; on another device
    (not in :data:`PINNED_COPY_DEVICES`) it is copied plainly.
    """
    if device.type == "cpu":
        return order
    if device.type in PINNED_COPY_DEVICES:
        return order.pin_memory().to(device, non_blocking=True)
    return order.to(device)


def batches(n: int, batch_size: int, total_steps: int, generator: torch.Generator, device) -> Iterator[torch.Tensor]:
    """Yield ``total_steps`` int64 index tensors (B,) on ``device``: a fresh permutation of ``n`` per epoch from the
    CPU ``generator`` (the same batches for one seed on every device), last batch of an epoch may be short.

    Each epoch's permutation crosses to the device once (:func:`epoch_order_on`, non-blocking on CUDA) and each
    step's indices are a slice of it on the device: no host-to-device copy, hence no host sync, per step
    (the measurement rule of no host sync in the step loop, DESIGN.md).
    """
    device = torch.device(device)
    step = 0
    while step < total_steps:
        order = epoch_order_on(torch.randperm(n, generator=generator), device)
        for start in range(0, n, batch_size):
            if step == total_steps:
                return
            step += 1
            yield order[start : start + batch_size]


def preloaded_stream(
    data: Dataset, batch_size: int, total_steps: int, generator: torch.Generator, device
) -> Iterator[Batch]:
    """Batches x (B, *input_shape), y (B,) gathered on ``device`` from the preloaded tensors."""
    x, y = data.train_x, data.train_y
    for idx in batches(len(y), batch_size, total_steps, generator, device):
        yield x[idx], y[idx]


def dataloader_stream(
    data: Dataset, spec: DataLoaderSpec, batch_size: int, total_steps: int, generator: torch.Generator, device
) -> Iterator[Batch]:
    """Batches from a shuffling DataLoader over the CPU tensors of ``data``, copied to ``device``."""
    device = torch.device(device)
    pin = spec.pin_memory and device.type == "cuda"
    dataset = TensorDataset(data.train_x, data.train_y)
    step = 0
    for epoch in epoch_batches(len(data.train_y), batch_size, generator):
        loader = DataLoader(
            dataset,
            batch_sampler=[idx.tolist() for idx in epoch],
            num_workers=spec.num_workers,
            pin_memory=pin,
            prefetch_factor=spec.prefetch_factor,
        )
        for x, y in loader:
            if step == total_steps:
                return
            step += 1
            yield x.to(device, non_blocking=pin), y.to(device, non_blocking=pin)


def batch_stream(
    spec: LoaderSpec,
    on_device: Dataset,
    on_cpu: Dataset,
    batch_size: int,
    total_steps: int,
    generator: torch.Generator,
    device,
) -> Iterator[Batch]:
    """The stream the case's ``loader`` asks for."""
    if isinstance(spec, PreloadedLoader):
        return preloaded_stream(on_device, batch_size, total_steps, generator, device)
    return dataloader_stream(on_cpu, spec, batch_size, total_steps, generator, device)
