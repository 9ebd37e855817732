"""What a run trains with, built from its :class:`CaseConfig`: the model (norm layers, weight init, prior bias,
torch.compile), the optimizer at the case's effective lr (its fused CUDA implementation where it has one), the lr
scheduler, and the precision policy."""

from __future__ import annotations

import contextlib
import inspect
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from benchsuite.specs.case import CaseConfig
from benchsuite.telemetry import phases
from benchsuite.telemetry.clock import Stopwatch
from benchsuite.training import precision
from benchsuite.training.schedules import build_scheduler, scaled_lr
from benchsuite.training.techniques import NORM_LAYERS, apply_init, apply_prior_bias, build_optimizer
from benchsuite.workloads.datasets import Dataset
from benchsuite.workloads.models import model_from_spec


def effective_lr(config: CaseConfig) -> float:
    """The base lr of the case scaled to its global batch size by its ``lr_scaling`` rule."""
    train = config.train
    return scaled_lr(train.base_lr, train.global_batch_size, train.base_batch_size, train.lr_scaling)


def build_model(config: CaseConfig, data: Dataset) -> nn.Module:
    """The case's model with its norm layers, weight init and (optionally) prior bias, on the CPU."""
    spec = config.workload.model
    model = model_from_spec(spec, data.input_shape, data.num_classes, NORM_LAYERS[config.techniques.norm])
    apply_init(model, config.techniques.init, getattr(spec, "activation", "relu"))  # a plugin may not say: ReLU gain
    if config.techniques.prior_bias:
        apply_prior_bias(model, data.train_y, data.num_classes)
    return model


#: Optimizers with a fused CUDA kernel (``fused=True``, PyTorch's torch.optim documentation, "Algorithms" and the
#: per-class ``fused`` argument). A fused optimizer sets ``_step_supports_amp_scaling``: GradScaler then hands it
#: ``grad_scale`` and ``found_inf`` as device tensors and the kernel skips a step with inf/nan gradients on the device
#: (torch.amp.GradScaler.step), instead of the unfused path's ``found_inf.item()``, a host sync per fp16 step.
#: Adagrad's fused kernel is CPU-only and RMSprop has none: they keep PyTorch's default (foreach on CUDA).
FUSED_ON_CUDA: tuple[type[torch.optim.Optimizer], ...] = (torch.optim.SGD, torch.optim.Adam, torch.optim.AdamW)


def optimizer_implementation(optimizer: torch.optim.Optimizer) -> str:
    """``fused``, ``foreach`` or ``for-loop``: the implementation ``optimizer``'s first param group steps with, as
    PyTorch resolves ``fused=None``/``foreach=None`` (foreach where every parameter is on CUDA; for-loop on a CPU)."""
    group = optimizer.param_groups[0]
    if group.get("fused"):
        return "fused"
    on_cuda = all(p.device.type == "cuda" for p in group["params"])
    if group.get("foreach") or (group.get("foreach") is None and on_cuda and not group.get("differentiable")):
        return "foreach"
    return "for-loop"


def for_device(optimizer: torch.optim.Optimizer, device: torch.device) -> torch.optim.Optimizer:
    """``optimizer`` (not yet stepped) in its fastest host-sync-free implementation for ``device``.

    On CUDA an optimizer of :data:`FUSED_ON_CUDA` is rebuilt with the same parameter groups and hyperparameters and
    ``fused=True`` (so fp16's GradScaler syncs no more than bf16, see :data:`FUSED_ON_CUDA`); any other optimizer, and
    every optimizer on another device, is returned unchanged, so CPU runs step exactly as before.

    Raises:
        ValueError: ``optimizer`` has already stepped (its state would be lost).
    """
    if torch.device(device).type != "cuda" or not isinstance(optimizer, FUSED_ON_CUDA):
        return optimizer
    if optimizer.state:
        raise ValueError("for_device: the optimizer has already stepped; choose its implementation before training")
    accepted = inspect.signature(type(optimizer)).parameters
    defaults = {k: v for k, v in optimizer.defaults.items() if k in accepted}
    defaults.update(fused=True, foreach=None)
    groups = [{**group, "fused": True, "foreach": None} for group in optimizer.param_groups]
    return type(optimizer)(groups, **defaults)


#: The phase marker of a step outside a profiled window: one shared no-op context (a profiled window passes
#: ``torch.profiler.record_function`` instead; see :mod:`benchsuite.telemetry.phases`).
_UNMARKED = contextlib.nullcontext()


def unmarked(phase: str) -> contextlib.AbstractContextManager:
    """No phase marker: the step runs as it would without a profiler (a few hundred nanoseconds per phase)."""
    return _UNMARKED


@dataclass
class Trainer:
    """Everything one optimizer step needs. ``model`` is the module to call (compiled when asked)."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler | None
    """None where the lr never changes (a constant lr without warm-up)."""
    scaler: torch.amp.GradScaler | None
    """fp16's GradScaler; None for every other precision."""
    precision: str
    device: torch.device

    def __post_init__(self) -> None:
        self._autocasts = precision.uses_autocast(self.precision)

    @property
    def optimizer_impl(self) -> str:
        """The optimizer's implementation (:func:`optimizer_implementation`), for the run's record."""
        return optimizer_implementation(self.optimizer)

    def autocast(self) -> contextlib.AbstractContextManager:
        """Autocast for the precision in effect; a no-op context where the precision has none (fp32, tf32), so that
        an fp32 step pays nothing for it."""
        return precision.autocast(self.precision, self.device) if self._autocasts else _UNMARKED

    @property
    def lr(self) -> float:
        """The lr the next step will use (a host-side float: reading it does not synchronise)."""
        return self.optimizer.param_groups[0]["lr"]


def train_step(trainer: Trainer, x: torch.Tensor, y: torch.Tensor, scale: float = 1.0, phase=unmarked) -> torch.Tensor:
    """One optimizer step on x (B, *input_shape), y (B,); returns the mean loss tensor (not synchronised).

    Autocast covers the forward pass and the loss; GradScaler (fp16 only) scales the backward pass and skips steps
    with inf/nan gradients; the scheduler (where the lr changes) steps once per optimizer step.
    ``scale`` multiplies the loss that is back-propagated (a data-parallel rank's share, see
    :class:`benchsuite.training.ranks.Ranks`). ``phase(name)`` gives the context that marks each phase of the step
    (:data:`benchsuite.telemetry.phases.STEP_PHASES`): none outside a profiled window.
    """
    with phase(phases.ZERO_GRAD):
        trainer.optimizer.zero_grad(set_to_none=True)
    with phase(phases.FORWARD), trainer.autocast():
        logits = trainer.model(x)
    with phase(phases.LOSS), trainer.autocast():
        loss = F.cross_entropy(logits, y)
    with phase(phases.BACKWARD):
        share = loss * scale if scale != 1.0 else loss
        (share if trainer.scaler is None else trainer.scaler.scale(share)).backward()
    with phase(phases.OPTIMIZER):
        if trainer.scaler is None:
            trainer.optimizer.step()
        else:
            trainer.scaler.step(trainer.optimizer)
            trainer.scaler.update()
    if trainer.scheduler is not None:
        with phase(phases.LR_SCHEDULER):
            trainer.scheduler.step()
    return loss.detach()


def build_trainer(
    config: CaseConfig, data: Dataset, device: torch.device, total_steps: int, steps_per_epoch: int
) -> Trainer:
    """Model on ``device``, optimizer at :func:`effective_lr` (fused on CUDA where it can be, :func:`for_device`),
    scheduler over ``total_steps``, precision."""
    model = build_model(config, data).to(device)
    optimizer = for_device(build_optimizer(model, config.train, effective_lr(config)), device)
    scheduler = build_scheduler(optimizer, config.train.lr_schedule, total_steps, steps_per_epoch)
    name = config.techniques.precision
    return Trainer(model, optimizer, scheduler, precision.grad_scaler(name, device), name, device)


def compile_model(trainer: Trainer, config: CaseConfig, data: Dataset, team: Any = None) -> float:
    """Wrap the model in ``torch.compile`` and compile it now; return the compile seconds (timed apart).

    Compilation is triggered by a forward and backward pass for every batch shape training will see (the full
    batch and a shorter last batch, each as this rank's shard of it: ``team.shard``, the whole batch for one
    process), with parameters, buffers (BatchNorm statistics) and gradients restored afterwards, so the timed run
    starts from the same state and does not recompile inside the timed region (a data-parallel rank trains on
    shards of the global batch: warmed on the full batch, it recompiled inside the timed region).

    ``trainer.model`` is the module as it will be called: for a data-parallel rank, already wrapped in
    DistributedDataParallel (compiled after the wrap, so that all-reduce overlaps backward; PyTorch's torch.compiler
    FAQ), whose warming passes then run its collectives on every rank alike.
    """
    module = trainer.model
    state = {k: v.clone() for k, v in module.state_dict().items()}
    trainer.model = torch.compile(module, backend=config.techniques.compile_backend)
    n, batch = len(data.train_y), config.train.global_batch_size
    sizes = {min(batch, n)} | ({n % batch} if n % batch and n > batch else set())
    watch = Stopwatch(trainer.device)
    with watch:
        for size in sorted(sizes):
            x, y = data.train_x[:size], data.train_y[:size]
            if team is not None:
                x, y, _ = team.shard(x, y)
            with trainer.autocast():
                loss = F.cross_entropy(trainer.model(x), y)
            loss.backward()
    module.load_state_dict(state)
    trainer.optimizer.zero_grad(set_to_none=True)
    return watch.elapsed_s
