"""Paired, interleaved step-timing blocks: the per-step cost of two cases, measured so that drift cancels.

A shared machine's speed drifts by tens of per cent over seconds, so two cases timed minutes apart can differ by more
than any technique does. Here both cases live in one process and train alternately in blocks, ABBA (case first in
even pairs, reference first in odd ones), each block lasting at least ``min_block_s``; a slow stretch of the machine
then falls on both sides of a pair, and the per-pair ratio of seconds per step cancels it (pyperf's advice; the
paired telemetry-overhead benchmark of this project). The blocks are timed apart from the runs: they never change
time-to-target or steps-to-target.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import torch

from benchsuite.scenario.matrix import TimingPair
from benchsuite.training import precision
from benchsuite.training.faults import first_line, is_out_of_memory, oom_message, release_cached_memory
from benchsuite.training.run import UnsupportedCase
from benchsuite.training.standalone import StandaloneCase

WARMUP_STEPS = 3


@dataclass(frozen=True)
class Block:
    """One pair of blocks: seconds and steps of the case and of its reference, and which went first."""

    first: str
    case_s: float
    case_steps: int
    against_s: float
    against_steps: int


@dataclass(frozen=True)
class PairTiming:
    """The outcome of one block-timed pair; ``blocks`` are the raw timings (statistics derive in analysis)."""

    run_id: str
    scenario: str
    case_id: str
    against_id: str
    axes: dict[str, str]
    against_axes: dict[str, str]
    device: str
    status: str
    block_steps: dict[str, int]
    warmup_step_s: dict[str, float]
    precision: dict[str, str]
    blocks: list[Block] = field(default_factory=list)
    error: str | None = None
    """Why the pair has no blocks: the first line of its out-of-memory or other error (None when ``ok``)."""

    def extra_info(self) -> dict[str, Any]:
        """JSON-ready figures for ``benchmark.extra_info``, tagged ``kind: step_timing``."""
        info = asdict(self)
        info["kind"] = "step_timing"
        info["blocks"] = [
            {k: round(v, 7) if isinstance(v, float) else v for k, v in asdict(b).items()} for b in self.blocks
        ]
        return info


def time_pair(
    pair: TimingPair,
    device: torch.device,
    *,
    blocks: int | None = None,
    min_block_s: float | None = None,
    seed: int = 0,
) -> PairTiming:
    """Time ``pair`` in ``blocks`` pairs of interleaved blocks (defaults from the scenario's ``step_timing``).

    Each side is built, and compiled when its case asks, inside its own precision's TF32 mode
    (:func:`benchsuite.training.precision.matmul_mode`), the mode its blocks then run in, so that a TF32 case is
    compiled for TF32 and its reference for fp32. Each side first runs :data:`WARMUP_STEPS` untimed-for-the-result
    steps, whose mean sets its steps per block (at least one, enough to last ``min_block_s``).

    Raises:
        UnsupportedCase: a precision of either case cannot run on ``device``.
    """
    device = torch.device(device)
    for case in (pair.case, pair.reference):
        reason = precision.unsupported_reason(case.config.techniques.precision, device)
        if reason:
            raise UnsupportedCase(reason)
    blocks = pair.blocks if blocks is None else blocks
    min_block_s = pair.min_block_s if min_block_s is None else min_block_s
    result = {
        "run_id": pair.run_id,
        "scenario": pair.case.scenario,
        "case_id": pair.case.case_id,
        "against_id": pair.reference.case_id,
        "axes": dict(pair.case.axes),
        "against_axes": dict(pair.reference.axes),
        "device": str(device),
        "precision": {
            "case": precision.in_effect(pair.case.config.techniques.precision, device),
            "against": precision.in_effect(pair.reference.config.techniques.precision, device),
        },
    }
    timed: list[Block] = []
    status, steps, warm, error = "ok", {}, {}, None
    sides: dict[str, StandaloneCase] = {}
    try:  # building the sides (data, model, compile) can run out of memory as well
        # each side is built and compiled inside its own precision's matmul mode (StandaloneCase)
        sides = {
            "case": StandaloneCase(pair.case, device, seed),
            "against": StandaloneCase(pair.reference, device, seed),
        }
        warm = {name: side.block(WARMUP_STEPS) / WARMUP_STEPS for name, side in sides.items()}
        steps = {name: max(1, math.ceil(min_block_s / max(s, 1e-9))) for name, s in warm.items()}
        for k in range(blocks):
            order = ("case", "against") if k % 2 == 0 else ("against", "case")
            seconds = {name: sides[name].block(steps[name]) for name in order}
            timed.append(Block(order[0], seconds["case"], steps["case"], seconds["against"], steps["against"]))
    except Exception as exc:  # out of memory, or any other failure: recorded, and the session goes on
        oom = is_out_of_memory(exc)
        status, steps, warm = "oom" if oom else "failed", {}, {}
        error = oom_message(exc, "paired step timing") if oom else first_line(exc)
    if status != "ok":
        sides.clear()  # drop the models before handing their cached memory back
        release_cached_memory(device)
    return PairTiming(**result, status=status, block_steps=steps, warmup_step_s=warm, blocks=timed, error=error)
