"""Data serving: the stream of (x, y) batches a run trains on.

- preloaded: index batches gathered from tensors already on the device (a fresh permutation per epoch, moved to the
  device once per epoch and sliced there: no host-to-device copy per step).
- dataloader: a ``torch.utils.data.DataLoader`` over CPU tensors (``num_workers``, ``pin_memory``,
  ``prefetch_factor``), each batch copied to the device (``non_blocking`` when pinned); a new loader iterator each
  epoch (workers start again, as without ``persistent_workers``).

Both draw the same order per epoch from the run's generator (the DataLoader takes its batches from a
``batch_sampler``), so for one seed every loader serves the same samples in the same order: steps-to-target is the
same, and a comparison of loaders measures serving alone. The order is the case's ``sampler``: a permutation of the
n training samples (``uniform``), or n indices drawn with replacement in proportion to each sample's repeat factor
(``repeat_factor``, LVIS; :func:`repeat_factors`). Either way an epoch is n samples, ceil(n / batch) steps, as the
loop's budget counts it.

With ``progressive_resizing`` each batch of images is resized on the device to the size of its step's epoch
(:func:`resized_stream`): part of serving the batch, like the gather, so it is timed and counted in the input stall.

The training loop times how long it waits for each next batch, which gives the input-stall fraction.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from benchsuite.specs.serving import (
    DataLoaderSpec,
    LoaderSpec,
    PreloadedLoader,
    ProgressiveResizingSpec,
    RepeatFactorSampler,
    SamplerSpec,
)
from benchsuite.workloads.datasets import Dataset

Batch = tuple[torch.Tensor, torch.Tensor]


def class_repeat_factors(counts: torch.Tensor, threshold: float) -> torch.Tensor:
    """Repeat factor of each class, r_c = max(1, sqrt(t / f_c)) with f_c = counts[c] / counts.sum() and t =
    ``threshold`` (Gupta, Dollár & Girshick 2019, "LVIS", section 4, eq. for r(c)).

    Args:
        counts: (C,) training samples per class; a class without samples gets r = 1 (it is never drawn anyway).
        threshold: t in (0, 1].

    Returns:
        (C,) float64 repeat factors, each at least 1.
    """
    freq = counts.double() / counts.sum()
    return torch.sqrt(threshold / freq.clamp_min(torch.finfo(torch.float64).tiny)).clamp_min(1.0).where(freq > 0, 1.0)


def repeat_factors(labels: torch.Tensor, threshold: float) -> torch.Tensor:
    """Each training sample's repeat factor r_{c(i)} (:func:`class_repeat_factors`), from CPU labels (n,) int64;
    returns (n,) float64."""
    counts = torch.bincount(labels)
    return class_repeat_factors(counts, threshold)[labels]


def sample_weights(sampler: SamplerSpec | None, labels: torch.Tensor) -> torch.Tensor | None:
    """The per-sample draw weights (n,) float64 of ``sampler`` from CPU ``labels`` (n,), or None for a uniform
    permutation (``uniform``, or no sampler)."""
    if isinstance(sampler, RepeatFactorSampler):
        return repeat_factors(labels, sampler.threshold)
    return None


def epoch_order(n: int, generator: torch.Generator, weights: torch.Tensor | None = None) -> torch.Tensor:
    """One epoch's n indices (n,) int64 on the CPU from ``generator``: ``torch.randperm(n)`` without ``weights``
    (every sample once), else n draws with replacement, index i with probability weights[i] / Σ weights
    (``torch.multinomial``, the rule of ``torch.utils.data.WeightedRandomSampler``)."""
    if weights is None:
        return torch.randperm(n, generator=generator)
    return torch.multinomial(weights, n, replacement=True, generator=generator)


def epoch_batches(
    n: int, batch_size: int, generator: torch.Generator, weights: torch.Tensor | None = None
) -> Iterator[Iterator[torch.Tensor]]:
    """Each epoch's index batches (CPU): a fresh order of ``n`` from ``generator`` (:func:`epoch_order`, drawn when
    the epoch begins), cut into ``batch_size`` slices as they are asked for (the last may be short)."""
    while True:
        order = epoch_order(n, generator, weights)
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


def batches(
    n: int,
    batch_size: int,
    total_steps: int,
    generator: torch.Generator,
    device,
    weights: torch.Tensor | None = None,
) -> Iterator[torch.Tensor]:
    """Yield ``total_steps`` int64 index tensors (B,) on ``device``: a fresh order of ``n`` per epoch from the
    CPU ``generator`` (:func:`epoch_order`: a permutation, or weighted draws with ``weights``; the same batches for
    one seed on every device), last batch of an epoch may be short.

    Each epoch's permutation crosses to the device once (:func:`epoch_order_on`, non-blocking on CUDA) and each
    step's indices are a slice of it on the device: no host-to-device copy, hence no host sync, per step
    (the measurement rule of no host sync in the step loop, DESIGN.md).
    """
    device = torch.device(device)
    step = 0
    while step < total_steps:
        order = epoch_order_on(epoch_order(n, generator, weights), device)
        for start in range(0, n, batch_size):
            if step == total_steps:
                return
            step += 1
            yield order[start : start + batch_size]


def preloaded_stream(
    data: Dataset,
    batch_size: int,
    total_steps: int,
    generator: torch.Generator,
    device,
    weights: torch.Tensor | None = None,
) -> Iterator[Batch]:
    """Batches x (B, *input_shape), y (B,) gathered on ``device`` from the preloaded tensors."""
    x, y = data.train_x, data.train_y
    for idx in batches(len(y), batch_size, total_steps, generator, device, weights):
        yield x[idx], y[idx]


def dataloader_stream(
    data: Dataset,
    spec: DataLoaderSpec,
    batch_size: int,
    total_steps: int,
    generator: torch.Generator,
    device,
    weights: torch.Tensor | None = None,
) -> Iterator[Batch]:
    """Batches from a DataLoader over the CPU tensors of ``data``, copied to ``device``; its ``batch_sampler`` is
    each epoch's order (:func:`epoch_batches`), so it serves what :func:`preloaded_stream` serves."""
    device = torch.device(device)
    pin = spec.pin_memory and device.type == "cuda"
    dataset = TensorDataset(data.train_x, data.train_y)
    step = 0
    for epoch in epoch_batches(len(data.train_y), batch_size, generator, weights):
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


#: Device types whose bilinear ``interpolate`` takes ``antialias=True`` (PyTorch implements it on CPU and CUDA;
#: ``meta`` only computes shapes).
ANTIALIAS_DEVICES = frozenset({"cpu", "cuda", "meta"})


def resized(x: torch.Tensor, size: int) -> torch.Tensor:
    """Images x (N, C, H, W) resized to (N, C, size, size) on their device: bilinear, antialiased where supported
    (:data:`ANTIALIAS_DEVICES`), ``align_corners=False``; x itself when it has that size already. No host sync."""
    if x.shape[-2:] == (size, size):
        return x
    antialias = x.device.type in ANTIALIAS_DEVICES
    return F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=antialias)


def resized_stream(
    stream: Iterator[Batch], resizing: ProgressiveResizingSpec, steps_per_epoch: int, start_step: int = 0
) -> Iterator[Batch]:
    """``stream`` with each batch's images resized to the size of its step's epoch
    (:meth:`ProgressiveResizingSpec.size_at`; the first batch is step ``start_step``): the size is picked on the
    host from the step count, the resize runs on the device."""
    for step, (x, y) in enumerate(stream, start=start_step):
        yield resized(x, resizing.size_at(step, steps_per_epoch)), y


def batch_stream(
    spec: LoaderSpec,
    on_device: Dataset,
    on_cpu: Dataset,
    batch_size: int,
    total_steps: int,
    generator: torch.Generator,
    device,
    *,
    sampler: SamplerSpec | None = None,
    resizing: ProgressiveResizingSpec | None = None,
    start_step: int = 0,
) -> Iterator[Batch]:
    """The stream the case's ``loader`` asks for, in the order its ``sampler`` draws (None: uniform; weights from
    the CPU labels, computed once), resized by ``resizing`` from step ``start_step`` on (None: native size)."""
    weights = sample_weights(sampler, on_cpu.train_y)
    if isinstance(spec, PreloadedLoader):
        stream = preloaded_stream(on_device, batch_size, total_steps, generator, device, weights)
    else:
        stream = dataloader_stream(on_cpu, spec, batch_size, total_steps, generator, device, weights)
    if resizing is None:
        return stream
    return resized_stream(stream, resizing, math.ceil(len(on_cpu.train_y) / batch_size), start_step)
