"""The sampler axis: ``uniform`` (a permutation per epoch, as before) and ``repeat_factor`` (LVIS, Gupta, Dollár &
Girshick 2019, section 4), its repeat factors by hand, its class frequencies, its matrix axis and its host syncs."""

from __future__ import annotations

import math
import typing

import pytest
import torch
from conftest import TINY, tiny_spec

from benchsuite.profiling.syncs import HostSyncWatch
from benchsuite.scenario.matrix import expand_cases, expand_runs
from benchsuite.specs import names, training
from benchsuite.specs.scenario import ScenarioSpec
from benchsuite.specs.serving import PreloadedLoader, RepeatFactorSampler, UniformSampler
from benchsuite.training import batches as serving
from benchsuite.workloads.datasets import Dataset

CPU, META = torch.device("cpu"), torch.device("meta")


def _labels(counts: list[int]) -> torch.Tensor:
    """Labels with ``counts[c]`` samples of class c, shuffled (the order must not matter)."""
    y = torch.cat([torch.full((n,), c, dtype=torch.int64) for c, n in enumerate(counts)])
    return y[torch.randperm(len(y), generator=torch.Generator().manual_seed(5))]


def test_sampler_names_are_the_spec_union():
    members = typing.get_args(typing.get_args(training.SamplerSpec)[0])
    assert {typing.get_args(cls.model_fields["name"].annotation)[0] for cls in members} == set(names.SAMPLER_NAMES)


def test_repeat_factors_by_hand():
    # counts 900 / 90 / 10 of 1000: f = 0.9, 0.09, 0.01; t = 0.36 gives sqrt(0.4) < 1 -> 1, sqrt(4) = 2, sqrt(36) = 6
    r = serving.class_repeat_factors(torch.tensor([900, 90, 10]), 0.36)
    assert r.tolist() == pytest.approx([1.0, 2.0, 6.0])
    # LVIS's own threshold leaves all three alone: every f_c is above 0.001
    assert serving.class_repeat_factors(torch.tensor([900, 90, 10]), 0.001).tolist() == [1.0, 1.0, 1.0]
    # the default 0.1 on balanced 10-class data repeats nothing; a class at half its share gets sqrt(2)
    default = RepeatFactorSampler(name="repeat_factor").threshold
    assert default == 0.1
    assert serving.class_repeat_factors(torch.full((10,), 100), default).tolist() == pytest.approx([1.0] * 10)
    half = serving.class_repeat_factors(torch.tensor([50] + [105] * 9 + [5]), default)  # f = 0.05, ..., 0.005
    assert half[0].item() == pytest.approx(math.sqrt(2)) and half[10].item() == pytest.approx(math.sqrt(20))
    # per sample: each sample takes its class's factor
    y = _labels([900, 90, 10])
    assert serving.repeat_factors(y, 0.36).tolist() == pytest.approx([[1.0, 2.0, 6.0][c] for c in y.tolist()])


def test_repeat_factor_epochs_draw_classes_in_proportion_to_r_times_f():
    y = _labels([900, 90, 10])
    weights = serving.sample_weights(RepeatFactorSampler(name="repeat_factor", threshold=0.36), y)
    generator = torch.Generator().manual_seed(0)
    drawn = torch.cat([serving.epoch_order(len(y), generator, weights) for _ in range(200)])
    assert len(drawn) == 200 * 1000  # an epoch stays n samples
    frequencies = torch.bincount(y[drawn], minlength=3).double() / len(drawn)
    expected = [0.9 / 1.14, 0.18 / 1.14, 0.06 / 1.14]  # r_c f_c / sum: 0.9, 0.18, 0.06 over 1.14
    assert frequencies.tolist() == pytest.approx(expected, abs=0.005)  # 10 standard errors at most
    assert frequencies[2].item() > 0.04  # uniform would give 0.01


def test_uniform_is_the_permutation_of_before():
    n, batch, steps = 50, 16, 9  # 4 batches an epoch (16, 16, 16, 2)
    generator = torch.Generator().manual_seed(3)
    before = []  # the code of before: one torch.randperm per epoch, sliced
    while len(before) < steps:
        order = torch.randperm(n, generator=generator)
        before += [order[start : start + batch] for start in range(0, n, batch)]
    before = before[:steps]
    data = Dataset(torch.arange(n).float()[:, None], torch.arange(n) % 3, torch.zeros(1, 1), torch.zeros(1), 3)
    for sampler in (None, UniformSampler(name="uniform")):
        generator = torch.Generator().manual_seed(3)
        stream = serving.batch_stream(
            PreloadedLoader(name="preloaded"), data, data, batch, steps, generator, CPU, sampler=sampler
        )
        served = [x[:, 0].long() for x, _ in stream]
        assert len(served) == steps and all(torch.equal(a, b) for a, b in zip(served, before, strict=True))


def test_every_loader_serves_the_same_repeat_factor_batches():
    from benchsuite.specs.serving import DataLoaderSpec

    y = _labels([40, 8, 2])
    data = Dataset(torch.arange(50).float()[:, None], y, torch.zeros(1, 1), torch.zeros(1), 3)
    sampler = RepeatFactorSampler(name="repeat_factor", threshold=0.5)
    streams = [
        list(serving.batch_stream(s, data, data, 16, 9, torch.Generator().manual_seed(3), CPU, sampler=sampler))
        for s in (PreloadedLoader(name="preloaded"), DataLoaderSpec(name="dataloader"))
    ]
    assert [len(s) for s in streams] == [9, 9]
    assert all(torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) for a, b in zip(*streams, strict=True))
    preloaded = PreloadedLoader(name="preloaded")
    uniform = list(serving.batch_stream(preloaded, data, data, 16, 9, torch.Generator().manual_seed(3), CPU))
    assert not all(torch.equal(a[0], b[0]) for a, b in zip(streams[0], uniform, strict=True))


def test_the_sampler_is_a_train_field_with_name_shorthand():
    spec = ScenarioSpec.model_validate(tiny_spec())
    assert spec.train.sampler == UniformSampler(name="uniform")
    spec = ScenarioSpec.model_validate(tiny_spec(train={**TINY["train"], "sampler": "repeat_factor"}))
    assert spec.train.sampler == RepeatFactorSampler(name="repeat_factor", threshold=0.1)


def test_the_sampler_axis_expands_into_cases_with_distinct_ids():
    matrix = {
        "sampler": [
            "uniform",
            {"name": "repeat_factor"},
            {"name": "repeat_factor", "threshold": 0.5, "label": "rfs-0_5"},
        ]
    }
    spec = ScenarioSpec.model_validate(tiny_spec(matrix=matrix))
    cases = expand_cases(spec)
    assert [c.case_id for c in cases] == ["sampler=uniform", "sampler=repeat_factor", "sampler=rfs-0_5"]
    assert [c.config.train.sampler.name for c in cases] == ["uniform", "repeat_factor", "repeat_factor"]
    assert cases[2].config.train.sampler.threshold == 0.5 and cases[0].is_baseline
    with pytest.raises(ValueError, match="axis 'sampler' repeats a value"):
        ScenarioSpec.model_validate(tiny_spec(matrix={"sampler": ["repeat_factor", {"name": "repeat_factor"}]}))


def test_repeat_factor_stream_copies_to_the_device_once_per_epoch():
    """The stream alone on ``meta``: the weights and every epoch's draws are made on the CPU; one copy per epoch."""
    y = _labels([40, 16, 8])
    on_cpu = Dataset(torch.randn(64, 4), y, torch.zeros(1, 4), torch.zeros(1, dtype=torch.int64), 3)
    on_meta = Dataset(*(t.to(META) for t in (on_cpu.train_x, y, on_cpu.val_x, on_cpu.val_y)), 3)
    sampler = RepeatFactorSampler(name="repeat_factor", threshold=0.5)
    with HostSyncWatch(lambda: True) as watch:
        generator = torch.Generator().manual_seed(0)
        stream = serving.batch_stream(
            PreloadedLoader(name="preloaded"), on_meta, on_cpu, 16, 20, generator, META, sampler=sampler
        )
        assert sum(1 for _ in stream) == 20  # 5 epochs of 4 steps
    assert sum(watch.found.values()) == 5 and all("copy" in op for _, op in watch.found)


def test_repeat_factor_steps_make_no_host_sync_in_the_loop():
    """The whole loop on ``meta`` (as tests/test_host_syncs.py): only each epoch's order crosses to the device."""
    from benchsuite.training.build import build_trainer
    from benchsuite.training.loop import Budget, TrainingLoop
    from benchsuite.workloads.datasets import load_dataset

    train = {**TINY["train"], "sampler": {"name": "repeat_factor", "threshold": 0.5}}
    config = expand_runs(ScenarioSpec.model_validate(tiny_spec(train=train)))[0].case.config
    cpu_data = load_dataset(config.workload.dataset, CPU)  # 64 samples, batch 16: 4 steps per epoch, 8 steps
    fields = (cpu_data.train_x, cpu_data.train_y, cpu_data.val_x, cpu_data.val_y)
    data = Dataset(*(t.to(META) for t in fields), cpu_data.num_classes)
    budget = Budget.of(config.train, len(cpu_data.train_y))
    trainer = build_trainer(config, data, META, budget.total_steps, budget.steps_per_epoch)
    training_loop = TrainingLoop(config, data, budget, META)
    with HostSyncWatch(lambda: training_loop.train_watch.running) as watch:
        status, steps = training_loop.run(trainer, torch.Generator().manual_seed(0))
    assert (status, steps) == ("ok", 8)
    copies = {k: n for k, n in watch.found.items() if k[0].startswith("benchsuite/training/batches.py:")}
    assert {k: n for k, n in watch.found.items() if k not in copies} == {}
    assert all("copy" in op for _, op in copies) and sum(copies.values()) <= 2  # two epochs, at most one copy each


def test_a_repeat_factor_run_trains_end_to_end():
    from benchsuite.training.run import train_run

    train = {**TINY["train"], "sampler": "repeat_factor"}
    run = expand_runs(ScenarioSpec.model_validate(tiny_spec(train=train, matrix={})))[0]
    result = train_run(run, CPU, telemetry_interval_s=None)
    assert result.status == "ok" and result.steps == 8
