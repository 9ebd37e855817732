"""The recurrent classifier: shapes, parameter counts by hand, norm per time step, init per gate, it learns, and it
trains inside a scenario on MNIST-1D-shaped data."""

from __future__ import annotations

import math

import pytest
import torch
from conftest import tiny_spec
from pydantic import ValidationError

from benchsuite.scenario.matrix import expand_runs
from benchsuite.specs.scenario import ScenarioSpec
from benchsuite.specs.workload import RnnSpec, WorkloadSpec
from benchsuite.training.run import train_run
from benchsuite.training.techniques import NORM_LAYERS, apply_init, apply_prior_bias
from benchsuite.workloads.models import build_rnn


def _rnn(norm: str = "none", **fields) -> torch.nn.Module:
    torch.manual_seed(0)
    return build_rnn(RnnSpec(name="rnn", **fields), (1, 40), 10, NORM_LAYERS[norm])


def _params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("norm", ["none", "layernorm", "batchnorm"])
@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_mnist1d_samples_give_one_row_of_logits_each(norm, cell):
    assert _rnn(norm, cell=cell, hidden=8)(torch.randn(5, 1, 40)).shape == (5, 10)


def test_parameter_count_by_hand():
    # GRU layer: 3 gates x (h x (in + h) weights + 2h biases) (Cho et al. 2014; torch keeps b_ih and b_hh)
    gru_1 = 3 * (4 * (1 + 4) + 2 * 4)  # in 1, hidden 4: 3 * 28 = 84
    gru_2 = 3 * (4 * (4 + 4) + 2 * 4)  # second layer reads the first's 4 features: 3 * 40 = 120
    head = 4 * 10 + 10  # Linear(4, 10) = 50
    assert _params(_rnn(hidden=4)) == gru_1 + head == 134
    assert _params(_rnn(hidden=4, layers=2)) == gru_1 + gru_2 + head == 254
    assert _params(_rnn("layernorm", hidden=4)) == 134 + 2 * 4  # LayerNorm's gain and bias per feature
    assert _params(_rnn("batchnorm", hidden=4)) == 134 + 2 * 4
    assert _params(_rnn(cell="lstm", hidden=4)) == 4 * (4 * (1 + 4) + 2 * 4) + head == 162  # LSTM: 4 gates


def test_layernorm_normalises_every_time_step_over_its_features():
    model = _rnn("layernorm", hidden=16).eval()
    x = torch.randn(6, 1, 40)
    with torch.no_grad():
        out, _ = model.rnn(x.transpose(1, 2))  # (N, L, H) before the norm
        features = model.features(x)  # the LayerNorm affine still (1, 0)
    assert features.shape == (6, 40, 16)
    torch.testing.assert_close(features.mean(dim=2), torch.zeros(6, 40), atol=1e-5, rtol=0)
    raw = out.var(dim=2, unbiased=False)  # (x - mean) / sqrt(var + eps) has variance var / (var + eps), eps 1e-5
    torch.testing.assert_close(features.var(dim=2, unbiased=False), raw / (raw + 1e-5), atol=1e-4, rtol=0)
    assert features.var(dim=2, unbiased=False).min() > 0.9


def test_batchnorm_statistics_are_over_batch_and_time_per_feature():
    model = _rnn("batchnorm", hidden=16).train()
    x = torch.randn(6, 1, 40)
    with torch.no_grad():
        out, _ = model.rnn(x.transpose(1, 2))  # (6, 40, 16) before the norm
        model(x)
    over_batch_and_time = out.reshape(-1, 16).mean(dim=0)
    # one forward from running_mean = 0 with momentum 0.1 (Ioffe & Szegedy 2015 as torch keeps it)
    torch.testing.assert_close(model.norm.running_mean, 0.1 * over_batch_and_time)
    assert not torch.allclose(model.norm.running_mean, 0.1 * out[:, -1].mean(dim=0))  # not the last step alone
    normalised = model.features(x).reshape(-1, 16)  # train mode: batch statistics
    torch.testing.assert_close(normalised.mean(dim=0), torch.zeros(16), atol=1e-5, rtol=0)


def test_readout_last_step_or_mean_over_time():
    x = torch.randn(3, 1, 40)
    for readout, pick in (("last", lambda h: h[:, -1]), ("mean", lambda h: h.mean(dim=1))):
        model = _rnn(hidden=8, readout=readout).eval()
        torch.testing.assert_close(model(x), model.head(pick(model.features(x))))


def test_a_sample_is_read_as_length_steps_of_channels():
    model = build_rnn(RnnSpec(name="rnn", hidden=4), (3, 7), 2, NORM_LAYERS["none"])
    assert model.rnn.input_size == 3 and model.features(torch.randn(2, 3, 7)).shape == (2, 7, 4)
    with pytest.raises(ValueError, match=r"model 'rnn' needs samples \(channels, length\), got shape \(784,\)"):
        build_rnn(RnnSpec(name="rnn"), (784,), 10, NORM_LAYERS["none"])


def test_rnn_fits_sequences_but_not_images():
    assert WorkloadSpec(dataset="mnist1d", model="rnn").model.cell == "gru"
    with pytest.raises(ValidationError, match="model 'rnn' needs samples of rank 2 but dataset 'mnist' gives rank 3"):
        WorkloadSpec(dataset="mnist", model="rnn")


def test_init_fills_every_gate_block_apart_and_zeroes_the_biases():
    model = _rnn(hidden=64)
    assert apply_init(model, "xavier_uniform", "tanh") == 2  # the head and the GRU
    w_hh = model.rnn.weight_hh_l0  # (3 * 64, 64): three gate blocks of (64, 64)
    per_block, stacked = math.sqrt(6 / (64 + 64)), math.sqrt(6 / (3 * 64 + 64))
    for block in w_hh.split(64):
        assert stacked < block.abs().max().item() <= per_block  # Xavier bound of one (64, 64) gate matrix
    assert all(b.abs().sum() == 0 for n, b in model.rnn.named_parameters() if n.startswith("bias"))
    assert model.head.bias.abs().sum() == 0


def test_prior_bias_finds_the_classifier():
    model = _rnn(hidden=4)
    prior = apply_prior_bias(model, torch.tensor([0] * 9 + [1]), 10)
    torch.testing.assert_close(model.head.bias.data, prior)


@pytest.mark.parametrize("norm", ["none", "layernorm", "batchnorm"])
def test_a_few_steps_fit_a_tiny_sequence_task(norm):
    torch.manual_seed(0)
    x = torch.randn(64, 1, 12)
    y = (x.sum(dim=(1, 2)) > 0).long()  # the sign of the sum of the sequence
    model = build_rnn(RnnSpec(name="rnn", hidden=16), (1, 12), 2, NORM_LAYERS[norm])
    optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
    losses = []
    for _ in range(40):
        loss = torch.nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0]


def test_rnn_trains_in_a_scenario_with_every_technique():
    workload = {
        "dataset": {"name": "synthetic", "shape": [1, 10], "num_samples": 64, "val_samples": 32, "num_classes": 3},
        "model": {"name": "rnn", "hidden": 8, "layers": 2, "dropout": 0.1},
    }
    data = tiny_spec(
        workload=workload, matrix={"norm": ["layernorm", "batchnorm"]}, techniques={"init": "xavier_uniform"}
    )
    for run in (r for r in expand_runs(ScenarioSpec.model_validate(data)) if r.seed == 0):
        result = train_run(run, torch.device("cpu"))
        assert result.status == "ok" and result.steps == 8
        assert result.num_params == 3 * (8 * 9 + 16) + 3 * (8 * 16 + 16) + 2 * 8 + 8 * 3 + 3  # 723
