"""Paired, interleaved step-timing blocks on tiny cases."""

from __future__ import annotations

import pytest
import torch
from conftest import tiny_spec

from benchsuite.scenario.matrix import timing_pairs
from benchsuite.specs.scenario import ScenarioSpec
from benchsuite.training.run import UnsupportedCase
from benchsuite.training.step_timing import time_pair

CPU = torch.device("cpu")


def _pair(**overrides):
    spec = ScenarioSpec.model_validate(tiny_spec(**{"step_timing": {"against": {"init": "default"}}, **overrides}))
    (pair,) = timing_pairs(spec)
    return pair


def test_blocks_alternate_abba_and_last_at_least_the_minimum():
    timing = time_pair(_pair(), CPU, blocks=4, min_block_s=0.01)
    assert timing.status == "ok" and [b.first for b in timing.blocks] == ["case", "against", "case", "against"]
    for block in timing.blocks:
        assert block.case_steps == timing.block_steps["case"] >= 1 and block.against_steps >= 1
        assert block.case_s > 0 and block.against_s > 0
    info = timing.extra_info()
    assert (
        info["kind"] == "step_timing"
        and info["case_id"] == "init=xavier_uniform"
        and info["against_id"] == "init=default"
    )
    assert len(info["blocks"]) == 4 and set(info["blocks"][0]) == {
        "first",
        "case_s",
        "case_steps",
        "against_s",
        "against_steps",
    }


def test_worker_loaders_get_fresh_workers_each_block():
    loader = {"name": "dataloader", "num_workers": 1, "prefetch_factor": 2}
    pair = _pair(
        matrix={"loader": ["preloaded", {**loader, "label": "workers"}]},
        step_timing={"against": {"loader": "preloaded"}},
    )
    timing = time_pair(pair, CPU, blocks=2, min_block_s=0.0)
    assert timing.status == "ok" and len(timing.blocks) == 2


def test_a_precision_the_device_cannot_run_is_refused():
    pair = _pair(matrix={"precision": ["fp32", "fp16"]}, step_timing={"against": {"precision": "fp32"}})
    with pytest.raises(UnsupportedCase, match="fp16"):
        time_pair(pair, CPU, blocks=1)


def test_cuda_oom_while_building_a_side_is_recorded(monkeypatch):
    from benchsuite.training import standalone

    def oom(*args, **kwargs):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")

    monkeypatch.setattr(standalone, "build_trainer", oom)
    timing = time_pair(_pair(), CPU, blocks=2)
    assert timing.status == "oom" and timing.blocks == [] and timing.extra_info()["kind"] == "step_timing"


def test_cpu_oom_and_any_other_failure_are_recorded_with_their_first_line(monkeypatch):
    from benchsuite.training import standalone

    def cpu_oom(*args, **kwargs):
        raise RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 9 bytes (simulated)")

    def broken(*args, **kwargs):
        raise KeyError("no such layer")

    monkeypatch.setattr(standalone, "build_trainer", cpu_oom)
    oom = time_pair(_pair(), CPU, blocks=2)
    assert oom.status == "oom" and oom.error.startswith("CPU out of memory in paired step timing: DefaultCPUAllocator")
    monkeypatch.setattr(standalone, "build_trainer", broken)
    failed = time_pair(_pair(), CPU, blocks=2)
    assert (failed.status, failed.error, failed.blocks) == ("failed", "KeyError: 'no such layer'", [])
    assert failed.extra_info()["error"] == "KeyError: 'no such layer'"
