"""Training techniques applied to a case: weight init, normalisation layers, optimizer construction.

Each technique is an explicit registry keyed by the name used in scenario files.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from benchsuite.specs.training import TrainSpec

# ---------------------------------------------------------------- normalisation


def _batchnorm(features: int, kind: str) -> nn.Module:
    return nn.BatchNorm2d(features) if kind == "conv2d" else nn.BatchNorm1d(features)


def _layernorm(features: int, kind: str) -> nn.Module:
    # For conv features (N, C, ...) layer norm is GroupNorm with one group: it normalises each sample over its
    # channels and positions (Wu & He 2018, "Group Normalization", sec. 3.1), with a per-channel affine.
    return nn.LayerNorm(features) if kind == "linear" else nn.GroupNorm(1, features)


#: Norm registry: name → factory(features, kind) with kind in {"linear", "conv1d", "conv2d"}.
NORM_LAYERS: dict[str, Callable[[int, str], nn.Module]] = {
    "none": lambda features, kind: nn.Identity(),
    "batchnorm": _batchnorm,  # Ioffe & Szegedy 2015
    "layernorm": _layernorm,  # Ba, Kiros & Hinton 2016
}

# ---------------------------------------------------------------- weight init

_GAIN_NONLINEARITY = {"relu": "relu", "gelu": "relu", "tanh": "tanh"}


def _kaiming(fill: Callable) -> Callable[[torch.Tensor, str], None]:
    return lambda w, activation: fill(w, mode="fan_in", nonlinearity=_GAIN_NONLINEARITY[activation])


#: Init registry: name → fill(weight, activation). ``default`` keeps PyTorch's own reset_parameters
#: (Kaiming-uniform with a=sqrt(5), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for Linear and Conv weights).
INIT_FILLS: dict[str, Callable[[torch.Tensor, str], None] | None] = {
    "default": None,
    "xavier_uniform": lambda w, activation: nn.init.xavier_uniform_(w),  # Glorot & Bengio 2010
    "xavier_normal": lambda w, activation: nn.init.xavier_normal_(w),
    "kaiming_uniform": _kaiming(nn.init.kaiming_uniform_),  # He et al. 2015, gain for the activation
    "kaiming_normal": _kaiming(nn.init.kaiming_normal_),
}

_WEIGHTED = (nn.Linear, nn.Conv1d, nn.Conv2d)


def _init_recurrent(rnn: nn.RNNBase, fill: Callable[[torch.Tensor, str], None], activation: str) -> None:
    """Fill each gate's block of every input-to-hidden and hidden-to-hidden weight of ``rnn`` apart and zero the
    biases. A GRU stacks 3 gate matrices (H, ·) into each (3H, ·) weight (Cho et al. 2014), an LSTM 4: filling the
    stack as one matrix would count 3H or 4H outputs in Xavier's fan-out, so each (H, ·) block is filled as the
    matrix it is (Keras and most GRU baselines initialise the gates apart likewise)."""
    for name, param in rnn.named_parameters():
        if name.startswith("weight_"):
            for block in param.split(rnn.hidden_size, dim=0):
                fill(block, activation)
        elif name.startswith("bias_"):
            param.zero_()


def apply_init(model: nn.Module, init: str, activation: str) -> int:
    """Re-initialise every Linear/Conv weight of ``model`` in place with ``init``; zero their biases. Recurrent
    layers (GRU, LSTM) are re-initialised gate by gate (:func:`_init_recurrent`).

    Normalisation layers keep their (1, 0) affine init. ``default`` leaves the model untouched.

    Returns:
        The number of layers re-initialised.

    Raises:
        KeyError: unknown ``init`` name.
    """
    fill = INIT_FILLS[init]
    if fill is None:
        return 0
    layers = [m for m in model.modules() if isinstance(m, _WEIGHTED)]
    with torch.no_grad():
        for layer in layers:
            fill(layer.weight, activation)
            if layer.bias is not None:
                layer.bias.zero_()
        recurrent = [m for m in model.modules() if isinstance(m, nn.RNNBase)]
        for rnn in recurrent:
            _init_recurrent(rnn, fill, activation)
    return len(layers) + len(recurrent)


# ---------------------------------------------------------------- optimizers


def _common(spec) -> dict:
    return {"weight_decay": spec.weight_decay}


#: Optimizer registry: spec ``name`` → builder(params, spec, lr). ``lr`` is the case's effective lr.
OPTIMIZER_BUILDERS: dict[str, Callable[..., torch.optim.Optimizer]] = {
    "sgd": lambda p, s, lr: torch.optim.SGD(p, lr=lr, momentum=s.momentum, nesterov=s.nesterov, **_common(s)),
    "adagrad": lambda p, s, lr: torch.optim.Adagrad(
        p, lr=lr, lr_decay=s.lr_decay, initial_accumulator_value=s.initial_accumulator_value, eps=s.eps, **_common(s)
    ),
    "rmsprop": lambda p, s, lr: torch.optim.RMSprop(
        p, lr=lr, alpha=s.alpha, eps=s.eps, momentum=s.momentum, centered=s.centered, **_common(s)
    ),
    "adam": lambda p, s, lr: torch.optim.Adam(p, lr=lr, betas=s.betas, eps=s.eps, **_common(s)),
    "adamw": lambda p, s, lr: torch.optim.AdamW(p, lr=lr, betas=s.betas, eps=s.eps, **_common(s)),
}


def build_optimizer(model: nn.Module, train: TrainSpec, lr: float | None = None) -> torch.optim.Optimizer:
    """The optimizer of ``train.optimizer`` over ``model``'s parameters at ``lr`` (default: ``train.base_lr``)."""
    spec = train.optimizer
    return OPTIMIZER_BUILDERS[spec.name](model.parameters(), spec, train.base_lr if lr is None else lr)


# ---------------------------------------------------------------- classifier prior


def apply_prior_bias(model: nn.Module, train_y: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Set the bias of ``model``'s last Linear layer to the log class frequencies of ``train_y`` (N,).

    At init the softmax then predicts the class priors (Karpathy 2019, "A Recipe for Training Neural Networks":
    init the final layer well; the softmax analogue of the focal-loss prior init, Lin et al. 2017). On a balanced
    dataset this is a constant bias, i.e. a zeroed bias up to softmax invariance.

    Returns:
        The bias written, shape (num_classes,).

    Raises:
        ValueError: the model has no Linear layer with ``num_classes`` outputs and a bias.
    """
    heads = [m for m in model.modules() if isinstance(m, nn.Linear) and m.out_features == num_classes]
    if not heads or heads[-1].bias is None:
        raise ValueError(f"no classifier Linear layer with {num_classes} outputs and a bias")
    counts = torch.bincount(train_y.cpu(), minlength=num_classes).double().clamp(min=1.0)
    prior = torch.log(counts / counts.sum()).float()
    with torch.no_grad():
        heads[-1].bias.copy_(prior)
    return prior
