"""Paired step timing compiles each side inside the TF32 mode its timed blocks run in."""

from __future__ import annotations

import contextlib

import torch
from conftest import tiny_spec

from benchsuite.scenario.matrix import timing_pairs
from benchsuite.specs.scenario import ScenarioSpec
from benchsuite.training import build, precision, standalone
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

    def spy_compile(trainer, config, data):
        events.append(("compile", open_modes[-1] if open_modes else None))
        assert config.techniques.precision == (open_modes[-1] if open_modes else None)
        return build.compile_model(trainer, config, data)

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
