"""Pretraining (``train.pretrain``): the run starts from the stage's final weights (a re-initialised head where the
class counts differ), its seconds are recorded apart and never in the timed region, a fault in it is recorded with
its stage, and results files with or without its columns read."""

from __future__ import annotations

import pytest
import torch
from conftest import TINY, tiny_spec
from results_factory import results_data

from benchsuite.results import formats, frames
from benchsuite.scenario.matrix import expand_runs
from benchsuite.specs.scenario import ScenarioSpec
from benchsuite.telemetry import clock
from benchsuite.training import loop
from benchsuite.training import pretrain as pretraining
from benchsuite.training.run import train_run

CPU = torch.device("cpu")
HEAD = ("4.weight", "4.bias")  # the tiny MLP: Flatten, Linear(8, 16), Identity (no norm), ReLU, Linear(16, classes)


def _synthetic(num_classes: int, shape=(1, 8)) -> dict:
    return {"name": "synthetic", "shape": list(shape), "num_samples": 48, "val_samples": 8, "num_classes": num_classes}


def _run(pretrain: dict | None = None, seed: int = 0, **train):
    extra = {"pretrain": pretrain} if pretrain is not None else {}
    spec = ScenarioSpec.model_validate(tiny_spec(train={**TINY["train"], **extra, **train}))
    return next(r for r in expand_runs(spec) if r.seed == seed)


def _clone(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _capture(monkeypatch) -> dict:
    """Record the pretrained model's final weights (at the transfer) and the run's weights at its first step."""
    seen: dict = {}
    real_transfer, real_step = pretraining.transfer, loop.train_step

    def transfer(source, target):
        seen["pretrained"] = _clone(source)
        return real_transfer(source, target)

    def step(trainer, *args, **kwargs):
        seen.setdefault("first_step", _clone(trainer.model))
        return real_step(trainer, *args, **kwargs)

    monkeypatch.setattr(pretraining, "transfer", transfer)
    monkeypatch.setattr(loop, "train_step", step)
    return seen


def test_the_run_starts_from_the_pretrained_weights(monkeypatch):
    seen = _capture(monkeypatch)
    result = train_run(_run({"dataset": _synthetic(3), "max_epochs": 2}), CPU, warmup_steps=0)
    assert result.status == "ok" and result.pretrain_steps == 6  # 48 samples / batch 16 = 3 steps, 2 epochs
    pretrained, first = seen["pretrained"], seen["first_step"]
    assert set(pretrained) == set(first)
    for key, tensor in first.items():
        assert torch.equal(tensor, pretrained[key]), key  # the head too: the class counts match
    monkeypatch.undo()
    plain = _capture(monkeypatch)
    train_run(_run(), CPU, warmup_steps=0)
    assert not torch.equal(plain["first_step"]["1.weight"], first["1.weight"])  # pretraining moved them


def test_another_class_count_reinitialises_the_head_alone(monkeypatch):
    seen = _capture(monkeypatch)
    result = train_run(_run({"dataset": _synthetic(5), "max_steps": 4}), CPU, warmup_steps=0)
    assert result.status == "ok" and result.pretrain_steps == 4
    pretrained, first = seen["pretrained"], seen["first_step"]
    assert pretrained[HEAD[0]].shape == (5, 16) and first[HEAD[0]].shape == (3, 16)
    for key in set(first) - set(HEAD):
        assert torch.equal(first[key], pretrained[key]), key
    monkeypatch.undo()
    plain = _capture(monkeypatch)
    train_run(_run(), CPU, warmup_steps=0)  # the same seed without pretraining: the head it would have had
    for key in HEAD:
        assert torch.equal(first[key], plain["first_step"][key]), key


def test_pretraining_is_timed_apart_from_the_timed_region(monkeypatch):
    now = [0.0]
    monkeypatch.setattr(clock.time, "perf_counter", lambda: now[0])
    real_pretrain_step, real_step = pretraining.train_step, loop.train_step

    def long_pretrain_step(*args):
        now[0] += 100.0  # a pretraining step "takes" 100 s
        return real_pretrain_step(*args)

    def timed_step(*args):
        now[0] += 1.0  # a training step "takes" 1 s
        return real_step(*args)

    monkeypatch.setattr(pretraining, "train_step", long_pretrain_step)
    monkeypatch.setattr(loop, "train_step", timed_step)
    before = clock.timed_region_seconds()
    result = train_run(_run({"dataset": _synthetic(3), "max_epochs": 2}), CPU, warmup_steps=0)
    assert result.status == "ok" and result.steps == 8
    assert (result.pretrain_s, result.pretrain_steps) == (600.0, 6)
    assert result.timed_s == 8.0 and [p.timed_s for p in result.curve] == [0.0, 4.0, 8.0]
    assert clock.timed_region_seconds() - before == 8.0  # what pytest-benchmark records
    assert result.setup_s == 0.0  # only the steps are pretrain_s; the stage's load and build are setup


def test_a_subset_of_the_runs_own_data_and_the_smoke_cap():
    result = train_run(_run({"subset_samples": 20, "max_epochs": 1}), CPU, warmup_steps=0)
    assert result.status == "ok" and result.pretrain_steps == 2 and result.pretrain_s > 0  # ceil(20 / 16)
    capped = train_run(_run({"max_epochs": 10}), CPU, max_steps=3, warmup_steps=0)
    assert (capped.pretrain_steps, capped.steps) == (3, 3)
    info = result.extra_info()
    assert info["pretrain_steps"] == 2 and info["pretrain_s"] == result.pretrain_s


def test_no_pretraining_by_default():
    result = train_run(_run(), CPU, warmup_steps=0)
    assert result.config["train"]["pretrain"] is None
    assert (result.pretrain_s, result.pretrain_steps) == (0.0, 0)


def _boom(*args, **kwargs):
    raise ValueError("pretraining broke\nsecond line")


def _oom(*args, **kwargs):
    raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB (simulated)\nmore")


@pytest.mark.parametrize(
    ("fault", "status", "error"),
    [
        (_boom, "failed", "ValueError: pretraining broke"),
        (_oom, "oom", "CUDA out of memory in pretrain: CUDA out of memory. Tried to allocate 2.00 GiB (simulated)"),
    ],
)
def test_a_fault_in_pretraining_is_recorded_with_its_stage_and_the_next_run_goes_on(monkeypatch, fault, status, error):
    with monkeypatch.context() as patch:
        patch.setattr(pretraining, "train_step", fault)
        result = train_run(_run({"max_steps": 2}), CPU, warmup_steps=0)
    assert (result.status, result.fault_stage, result.error, result.steps) == (status, "pretrain", error, 0)
    assert result.extra_info()["fault_stage"] == "pretrain"
    assert train_run(_run({"max_steps": 2}), CPU, warmup_steps=0).status == "ok"


@pytest.mark.parametrize(
    ("pretrain", "words"),
    [
        ({"dataset": _synthetic(3, shape=(1, 6)), "max_steps": 1}, "1.weight is (16, 6) there, (16, 8) here"),
        ({"subset_samples": 65, "max_steps": 1}, "subset_samples 65 exceeds the 64 training samples"),
    ],
)
def test_a_pretraining_that_does_not_fit_fails_in_its_stage(pretrain, words):
    result = train_run(_run(pretrain), CPU, warmup_steps=0)
    assert (result.status, result.fault_stage) == ("failed", "pretrain") and words in result.error


def test_a_diverging_pretraining_fails_in_its_stage():
    result = train_run(_run({"max_steps": 3}, lr=1e30), CPU, warmup_steps=0)
    assert (result.status, result.fault_stage) == ("failed", "pretrain")
    assert result.error.startswith("ValueError: pretraining diverged")


def test_results_read_with_and_without_the_new_columns():
    old = results_data()  # written before pretraining and plateaus: no such fields
    formats.check(old, "old.json")
    runs = frames.runs_frame(old)
    for column in ("pretrain_s", "pretrain_steps", "stop_reason", "stop_step"):
        assert column in runs.columns and runs[column].isna().all()
    new = results_data()
    info = new["benchmarks"][0]["extra_info"]
    info.update(pretrain_s=1.5, pretrain_steps=6, stop_reason="plateau", stop_step=20)
    formats.check(new, "new.json")
    row = frames.runs_frame(new).set_index(["case_id", "seed"]).loc[(info["case_id"], info["seed"])]
    assert (row["pretrain_s"], row["pretrain_steps"], row["stop_reason"], row["stop_step"]) == (1.5, 6, "plateau", 20)
    info["stop_reason"] = 3
    with pytest.raises(formats.ResultsError, match="stop_reason"):
        formats.check(new, "bad.json")


def test_pretraining_is_a_matrix_axis_whose_null_is_from_scratch(tmp_path):
    from conftest import tiny_spec, write_yaml

    from benchsuite.scenario.load import ScenarioError, load_scenario
    from benchsuite.scenario.matrix import expand_cases

    stage = {"label": "warm", "max_epochs": 1}
    spec = load_scenario(write_yaml(tmp_path / "p.yaml", tiny_spec(matrix={"pretrain": [None, stage]})))
    cases = {c.case_id: c.config.train.pretrain for c in expand_cases(spec)}
    assert list(cases) == ["pretrain=none", "pretrain=warm"]
    assert cases["pretrain=none"] is None and cases["pretrain=warm"].max_epochs == 1
    unlabelled = write_yaml(tmp_path / "q.yaml", tiny_spec(matrix={"pretrain": [None, {"max_epochs": 1}]}))
    with pytest.raises(ScenarioError, match="matrix.pretrain.1 needs a 'label'"):
        load_scenario(unlabelled)
