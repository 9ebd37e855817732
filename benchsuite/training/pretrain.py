"""The pretraining stage of ``train.pretrain`` (:class:`benchsuite.specs.training.PretrainSpec`): the case's model
trained on another dataset (or a subset of its own) before the run, its weights the run's starting point.

It runs in :func:`benchsuite.training.run.train_run`'s preparation, after the model build and before compile and
the timed loop: its steps are timed apart (``pretrain_s``; its data load and model build count in ``setup_s``), so
neither the timed region nor time-to-target contains any of it. On the ranks of a data-parallel run each rank
pretrains alone (no collective), the same seed giving the same weights, and DistributedDataParallel's wrap then
broadcasts rank 0's to the others (torch.nn.parallel.DistributedDataParallel: module states are synced from rank 0
at construction).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from benchsuite.specs.case import CaseConfig
from benchsuite.specs.training import PretrainSpec
from benchsuite.telemetry.clock import Stopwatch
from benchsuite.training.batches import batches
from benchsuite.training.build import Trainer, build_trainer, train_step
from benchsuite.workloads.datasets import Dataset, load_dataset

SUBSET_SEED = 0
"""Seed of the permutation a ``subset_samples`` subset is drawn from (independent of the run seed)."""


@dataclass(frozen=True)
class Pretrained:
    """What the stage did: the seconds of its steps (timed apart), the steps, and whether the run's classifier head
    kept its own initialisation (the two datasets' class counts differ)."""

    seconds: float
    steps: int
    head_reinitialised: bool


def pretrain_data(spec: PretrainSpec, config: CaseConfig, device: torch.device) -> Dataset:
    """The dataset to pretrain on, on ``device``: ``spec.dataset`` (else the case's own), cut to ``subset_samples``
    training samples of a fixed permutation (:data:`SUBSET_SEED`) when set.

    Raises:
        ValueError: ``subset_samples`` exceeds the training samples there are.
    """
    data = load_dataset(spec.dataset or config.workload.dataset, device)
    n = spec.subset_samples
    if n is None:
        return data
    if n > len(data.train_y):
        raise ValueError(f"pretrain subset_samples {n} exceeds the {len(data.train_y)} training samples there are")
    keep = torch.randperm(len(data.train_y), generator=torch.Generator().manual_seed(SUBSET_SEED))[:n]
    keep = keep.to(data.train_x.device)
    return Dataset(data.train_x[keep], data.train_y[keep], data.val_x, data.val_y, data.num_classes)


def pretrain_steps(spec: PretrainSpec, n_train: int, batch_size: int, max_steps: int | None = None) -> tuple[int, int]:
    """(steps per epoch, total steps) of the pretraining budget over ``n_train`` samples in batches of
    ``batch_size``; ``max_steps`` caps it further (smoke checks, as it caps the run)."""
    per_epoch = math.ceil(n_train / batch_size)
    caps = [c for c in (spec.max_steps, max_steps) if c is not None]
    if spec.max_epochs is not None:
        caps.append(spec.max_epochs * per_epoch)
    return per_epoch, min(caps)


def classifier_head(model: nn.Module) -> str | None:
    """The name of ``model``'s classifier head, its last ``nn.Linear`` in module order (every built-in model ends in
    one); None where it has none."""
    names = [name for name, module in model.named_modules() if isinstance(module, nn.Linear)]
    return names[-1] if names else None


def transfer(source: nn.Module, target: nn.Module) -> bool:
    """Load ``source``'s weights and buffers into ``target``; return whether the classifier head kept ``target``'s
    own initialisation, which it does where its shape differs (another number of classes).

    Raises:
        ValueError: any other tensor is missing or of another shape (the pretrained model does not fit).
    """
    theirs, ours = source.state_dict(), target.state_dict()
    head = classifier_head(target)
    head_keys = {f"{head}.weight", f"{head}.bias"} if head is not None else set()
    merged, kept_head = {}, False
    for key, tensor in ours.items():
        if key in theirs and theirs[key].shape == tensor.shape:
            merged[key] = theirs[key]
        elif key in head_keys and key in theirs:
            merged[key], kept_head = tensor, True
        else:
            shape = tuple(theirs[key].shape) if key in theirs else "missing"
            raise ValueError(
                f"the pretrained model does not fit the run's: {key} is {shape} there, {tuple(tensor.shape)} here"
            )
    target.load_state_dict(merged)
    return kept_head


def pretrain(
    config: CaseConfig, trainer: Trainer, device: torch.device, seed: int, setup: Stopwatch, max_steps: int | None
) -> Pretrained:
    """Run the stage of ``config.train.pretrain`` and load its weights into ``trainer.model`` (not yet wrapped or
    compiled; its optimizer has not stepped, so the run starts a fresh one).

    The pretraining model is built as the run's (:func:`benchsuite.training.build.build_trainer`: the case's
    optimizer, effective lr, schedule over the pretraining budget, techniques, precision) for the pretraining data's
    classes; its batches come from a generator seeded with ``seed``. Only the steps are timed (``seconds``, a
    synchronised stopwatch); data load and model build go on ``setup``. The losses stay on the device and are read
    once, after the clock has stopped.

    Raises:
        ValueError: the pretraining loss is not finite, or its model does not fit the run's (:func:`transfer`).
    """
    spec = config.train.pretrain
    with setup:
        data = pretrain_data(spec, config, device)
        batch = min(spec.batch_size or config.train.global_batch_size, len(data.train_y))
        per_epoch, total = pretrain_steps(spec, len(data.train_y), batch, max_steps)
        source = build_trainer(config, data, device, total, per_epoch)
    watch, losses = Stopwatch(device), []
    with watch:
        for idx in batches(len(data.train_y), batch, total, torch.Generator().manual_seed(seed), device):
            losses.append(train_step(source, data.train_x[idx], data.train_y[idx]))
    loss = torch.stack(losses).mean().item() if losses else 0.0
    if not math.isfinite(loss):
        raise ValueError(f"pretraining diverged: mean training loss {loss} over its {total} steps")
    kept_head = transfer(source.model, trainer.model)
    return Pretrained(watch.elapsed_s, total, kept_head)
