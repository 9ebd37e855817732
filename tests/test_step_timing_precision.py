"""A case is compiled as it is stepped: paired step timing and the profiled window compile each case inside the TF32
mode its steps run in, and every path compiles a data-parallel model after its DistributedDataParallel wrap (so that
all-reduce overlaps backward: TorchDynamo's DDPOptimizer splits the graph at DDP's buckets only for a wrapped module).
"""

from __future__ import annotations

import contextlib

import pytest
import torch
from conftest import tiny_spec

from benchsuite.profiling.window import profile_case
from benchsuite.scenario.matrix import expand_runs, timing_pairs
from benchsuite.specs.profile import ProfileSpec
from benchsuite.specs.scenario import ScenarioSpec
from benchsuite.training import build, precision, ranks, run, standalone
from benchsuite.training.step_timing import time_pair

CPU = torch.device("cpu")


def test_each_side_compiles_inside_its_own_matmul_mode(monkeypatch):
    """Compilation reads the TF32 switches (inductor picks its matmul kernels then): a side compiled outside
    ``matmul_mode`` is compiled for whatever mode the process happened to be in, not the one it is timed in."""
    events: list[tuple[str, str | None]] = []
    open_modes: list[str] = []

    @contextlib.contextmanager
    def spy_mode(name, device):
        events.append(("enter", name))
        open_modes.append(name)
        try:
            yield
        finally:
            open_modes.pop()
            events.append(("exit", name))

    def spy_compile(trainer, config, data, team=None):
        events.append(("compile", open_modes[-1] if open_modes else None))
        assert config.techniques.precision == (open_modes[-1] if open_modes else None)
        return build.compile_model(trainer, config, data, team)

    monkeypatch.setattr(precision, "matmul_mode", spy_mode)
    monkeypatch.setattr(standalone, "compile_model", spy_compile)
    spec = tiny_spec(
        matrix={"precision": ["fp32", "bf16"]},
        techniques={"compile": True, "compile_backend": "eager"},
        step_timing={"against": {"precision": "fp32"}},
    )
    (pair,) = timing_pairs(ScenarioSpec.model_validate(spec))
    timing = time_pair(pair, CPU, blocks=2, min_block_s=0.0)
    assert timing.status == "ok", timing.error
    compiles = [mode for kind, mode in events if kind == "compile"]
    assert compiles == ["bf16", "fp32"]  # the case, then its reference, each under its own precision
    assert not open_modes


def _mode_spy(monkeypatch) -> list[str]:
    """Replace ``matmul_mode`` with a spy; the returned list is the stack of modes open now."""
    open_modes: list[str] = []

    @contextlib.contextmanager
    def spy_mode(name, device):
        open_modes.append(name)
        try:
            yield
        finally:
            open_modes.pop()

    monkeypatch.setattr(precision, "matmul_mode", spy_mode)
    return open_modes


def test_the_profiled_window_compiles_its_case_inside_the_case_matmul_mode(monkeypatch):
    open_modes = _mode_spy(monkeypatch)
    compiled_in: list[str | None] = []

    def spy_compile(trainer, config, data, team=None):
        compiled_in.append(open_modes[-1] if open_modes else None)
        return build.compile_model(trainer, config, data, team)

    monkeypatch.setattr(standalone, "compile_model", spy_compile)
    spec = ScenarioSpec.model_validate(
        tiny_spec(matrix={"precision": ["bf16"]}, techniques={"compile": True, "compile_backend": "eager"})
    )
    case = expand_runs(spec)[0].case
    profile = profile_case(case, CPU, ProfileSpec(wait=0, warmup=1, steps=2))
    assert profile["status"] == "ok", profile.get("error")
    assert compiled_in == ["bf16"]


class WrappedModel(torch.nn.Module):
    """What a fake team's ``wrap`` returns in place of DistributedDataParallel (which keeps the model as ``module``)."""

    def __init__(self, module: torch.nn.Module) -> None:
        super().__init__()
        self.module = module

    def forward(self, x):
        return self.module(x)


class WrappingTeam(ranks.Solo):
    """One process whose ``wrap`` wraps, as :class:`benchsuite.training.ranks.Ranks` wraps in DDP."""

    def wrap(self, model, device):
        return WrappedModel(model)


def _compile_spy(monkeypatch) -> list[torch.nn.Module]:
    seen: list[torch.nn.Module] = []
    real = torch.compile

    def spy(module, **kwargs):
        seen.append(module)
        return real(module, **kwargs)

    monkeypatch.setattr(build.torch, "compile", spy)
    return seen


@pytest.mark.parametrize("path", ["run", "standalone"])
def test_a_data_parallel_model_is_compiled_after_its_ddp_wrap(monkeypatch, path):
    seen = _compile_spy(monkeypatch)
    spec = ScenarioSpec.model_validate(tiny_spec(techniques={"compile": True, "compile_backend": "eager"}))
    first = expand_runs(spec)[0]
    if path == "run":
        result = run.train_run(first, CPU, telemetry_interval_s=None, warmup_steps=1, team=WrappingTeam())
        assert result.status == "ok", result.error
    else:
        side = standalone.StandaloneCase(first.case, CPU, seed=0, team=WrappingTeam())
        side.block(2)
    assert [type(module) for module in seen] == [WrappedModel]  # compiled: the wrapped module, once
