"""Weight init against the published formulas, norm layers in every model, optimizer construction."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from benchsuite.specs.training import TrainSpec
from benchsuite.specs.workload import Cnn1dSpec, Cnn2dSpec, MlpSpec
from benchsuite.training.techniques import INIT_FILLS, NORM_LAYERS, apply_init, build_optimizer
from benchsuite.workloads.models import MODEL_BUILDERS

FAN_IN, FAN_OUT = 600, 400


def _layer_after(init: str, activation: str = "relu", seed: int = 0) -> nn.Linear:
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(FAN_IN, FAN_OUT))
    assert apply_init(model, init, activation) == (0 if init == "default" else 1)
    return model[0]


# (init, expected std of the weights, bound of a uniform init or None). Formulas:
# Glorot & Bengio 2010: U(±sqrt(6/(fan_in+fan_out))), N(0, 2/(fan_in+fan_out)).
# He et al. 2015 (fan_in mode, ReLU gain sqrt 2): U(±sqrt(6/fan_in)), N(0, 2/fan_in).
# PyTorch default for Linear: U(±1/sqrt(fan_in)).
EXPECTED = [
    ("default", 1 / math.sqrt(3 * FAN_IN), 1 / math.sqrt(FAN_IN)),
    ("xavier_uniform", math.sqrt(2 / (FAN_IN + FAN_OUT)), math.sqrt(6 / (FAN_IN + FAN_OUT))),
    ("xavier_normal", math.sqrt(2 / (FAN_IN + FAN_OUT)), None),
    ("kaiming_uniform", math.sqrt(2 / FAN_IN), math.sqrt(6 / FAN_IN)),
    ("kaiming_normal", math.sqrt(2 / FAN_IN), None),
]


@pytest.mark.parametrize(("init", "std", "bound"), EXPECTED, ids=[e[0] for e in EXPECTED])
def test_init_matches_its_formula(init, std, bound):
    w = _layer_after(init).weight.detach()
    assert w.std().item() == pytest.approx(std, rel=0.02)
    assert abs(w.mean().item()) < 0.05 * std
    if bound is not None:
        assert w.abs().max().item() <= bound
        assert w.abs().max().item() > 0.99 * bound


@pytest.mark.parametrize("init", [i for i in INIT_FILLS if i != "default"])
def test_non_default_inits_zero_the_bias(init):
    assert torch.count_nonzero(_layer_after(init).bias) == 0


def test_default_init_leaves_pytorch_init_untouched():
    torch.manual_seed(3)
    reference = nn.Linear(FAN_IN, FAN_OUT)
    layer = _layer_after("default", seed=3)
    assert torch.equal(layer.weight, reference.weight) and torch.equal(layer.bias, reference.bias)
    assert torch.count_nonzero(layer.bias) > 0


def test_kaiming_uses_the_tanh_gain_for_tanh():
    # calculate_gain("tanh") = 5/3, so std = (5/3) / sqrt(fan_in)
    w = _layer_after("kaiming_normal", activation="tanh").weight
    assert w.std().item() == pytest.approx(5 / 3 / math.sqrt(FAN_IN), rel=0.02)


def test_init_reaches_conv_layers():
    model = nn.Sequential(nn.Conv1d(1, 8, 5), nn.Conv2d(8, 8, 3), nn.Linear(8, 2), nn.BatchNorm1d(8))
    assert apply_init(model, "xavier_normal", "relu") == 3
    assert torch.equal(model[3].weight, torch.ones(8))  # norm layers keep their affine init


SPECS = {
    "mlp": (MlpSpec(name="mlp", hidden=(16, 8)), (1, 28, 28)),
    "cnn1d": (Cnn1dSpec(name="cnn1d", channels=(4, 6)), (1, 40)),
    "cnn2d": (Cnn2dSpec(name="cnn2d", channels=(4, 6)), (1, 28, 28)),
}
EXPECTED_NORM_CLASSES = {
    ("mlp", "batchnorm"): nn.BatchNorm1d,
    ("mlp", "layernorm"): nn.LayerNorm,
    ("cnn1d", "batchnorm"): nn.BatchNorm1d,
    ("cnn1d", "layernorm"): nn.GroupNorm,
    ("cnn2d", "batchnorm"): nn.BatchNorm2d,
    ("cnn2d", "layernorm"): nn.GroupNorm,
}


@pytest.mark.parametrize("norm", list(NORM_LAYERS))
@pytest.mark.parametrize("model_name", list(SPECS))
def test_every_norm_in_every_model(model_name, norm):
    spec, shape = SPECS[model_name]
    model = MODEL_BUILDERS[model_name](spec, shape, 10, NORM_LAYERS[norm])
    norms = [m for m in model.modules() if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d, nn.LayerNorm, nn.GroupNorm))]
    if norm == "none":
        assert norms == []
    else:
        expected = EXPECTED_NORM_CLASSES[(model_name, norm)]
        assert len(norms) == 2 and all(type(m) is expected for m in norms)
        if expected is nn.GroupNorm:
            assert all(m.num_groups == 1 for m in norms)  # layer norm over (C, positions)
    out = model(torch.randn(5, *shape))
    assert out.shape == (5, 10)


def test_mlp_layers_and_dropout():
    model = MODEL_BUILDERS["mlp"](
        MlpSpec(name="mlp", hidden=(32,), dropout=0.5, activation="tanh"), (40,), 3, NORM_LAYERS["none"]
    )
    kinds = [type(m).__name__ for m in model]
    assert kinds == ["Flatten", "Linear", "Identity", "Tanh", "Dropout", "Linear"]
    assert model[1].in_features == 40 and model[5].out_features == 3


OPTIMIZER_CASES = [
    ({"name": "sgd", "momentum": 0.5, "nesterov": True}, torch.optim.SGD, {"momentum": 0.5, "nesterov": True}),
    ({"name": "adagrad", "lr_decay": 0.01}, torch.optim.Adagrad, {"lr_decay": 0.01}),
    ({"name": "rmsprop", "alpha": 0.9, "centered": True}, torch.optim.RMSprop, {"alpha": 0.9, "centered": True}),
    ({"name": "adam", "betas": [0.8, 0.99]}, torch.optim.Adam, {"betas": (0.8, 0.99), "weight_decay": 0.0}),
    ({"name": "adamw"}, torch.optim.AdamW, {"weight_decay": 0.01}),  # decoupled weight decay on by default
]


@pytest.mark.parametrize(("spec", "kind", "expected"), OPTIMIZER_CASES, ids=[o[0]["name"] for o in OPTIMIZER_CASES])
def test_optimizers_with_their_hyper_parameters(spec, kind, expected):
    train = TrainSpec(optimizer=spec, lr=0.25, max_steps=1)
    opt = build_optimizer(nn.Linear(3, 2), train)
    group = opt.param_groups[0]
    assert type(opt) is kind and group["lr"] == 0.25
    assert {k: group[k] for k in expected} == expected


def test_optimizer_lr_overrides_train_lr_and_explicit_lr_wins():
    train = TrainSpec(optimizer={"name": "sgd", "lr": 0.5}, lr=0.25, max_steps=1)
    assert train.base_lr == 0.5
    assert build_optimizer(nn.Linear(3, 2), train).param_groups[0]["lr"] == 0.5
    assert build_optimizer(nn.Linear(3, 2), train, lr=2.0).param_groups[0]["lr"] == 2.0


def test_nesterov_needs_momentum():
    with pytest.raises(ValueError, match="nesterov needs momentum"):
        TrainSpec(optimizer={"name": "sgd", "momentum": 0, "nesterov": True}, max_steps=1)


def test_prior_bias_is_the_log_class_frequency():
    from benchsuite.training.techniques import apply_prior_bias

    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    bias = apply_prior_bias(model, torch.tensor([0, 0, 0, 1, 2, 2, 2, 2]), 3)
    expected = torch.log(torch.tensor([3 / 8, 1 / 8, 4 / 8]))
    assert torch.allclose(bias, expected) and torch.allclose(model[2].bias, expected)
    assert torch.softmax(model[2].bias, 0).sum().item() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="no classifier"):
        apply_prior_bias(nn.Sequential(nn.Linear(4, 8)), torch.tensor([0, 1]), 3)


def test_cnn1d_stride_shortens_the_sequence():
    spec = Cnn1dSpec(name="cnn1d", channels=(4, 4, 4), kernel_size=5, stride=2)
    model = MODEL_BUILDERS["cnn1d"](spec, (1, 40), 10, NORM_LAYERS["none"])
    convs = [m for m in model if isinstance(m, nn.Conv1d)]
    assert [c.stride for c in convs] == [(2,)] * 3 and convs[0].padding == (2,)
    assert model[:-3](torch.randn(2, 1, 40)).shape == (2, 4, 5)  # 40 → 20 → 10 → 5 before pooling
    assert model(torch.randn(2, 1, 40)).shape == (2, 10)
