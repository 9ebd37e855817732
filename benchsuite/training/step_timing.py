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

from benchsuite.scenario.matrix import Case, TimingPair
from benchsuite.specs.training import DataLoaderSpec
from benchsuite.telemetry.clock import Stopwatch
from benchsuite.training import precision
from benchsuite.training.batches import batch_stream
from benchsuite.training.build import Trainer, build_trainer, compile_model, train_step
from benchsuite.training.run import UnsupportedCase, release_cached_memory
from benchsuite.workloads.datasets import load_dataset

WARMUP_STEPS = 3
_ENDLESS = 10**9  # steps a block stream may serve; schedules are built for it so they never run out


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

    def extra_info(self) -> dict[str, Any]:
        """JSON-ready figures for ``benchmark.extra_info``, tagged ``kind: step_timing``."""
        info = asdict(self)
        info["kind"] = "step_timing"
        info["blocks"] = [
            {k: round(v, 7) if isinstance(v, float) else v for k, v in asdict(b).items()} for b in self.blocks
        ]
        return info


class TimedCase:
    """One case of the pair: its data, a trainer built from its seed, and a stream of batches."""

    def __init__(self, case: Case, device: torch.device, seed: int) -> None:
        self.config, self.device = case.config, device
        self.data = load_dataset(self.config.workload.dataset, device)
        self.on_cpu = (
            self.data if device.type == "cpu" else load_dataset(self.config.workload.dataset, torch.device("cpu"))
        )
        torch.manual_seed(seed)
        per_epoch = math.ceil(len(self.data.train_y) / self.config.train.global_batch_size)
        self.trainer: Trainer = build_trainer(self.config, self.data, device, _ENDLESS, per_epoch)
        if self.config.techniques.compile:
            compile_model(self.trainer, self.config, self.data)
        self.generator = torch.Generator().manual_seed(seed)
        loader = self.config.train.loader
        # worker processes keep loading while the other case runs: each block gets its own, shut down after it
        self.fresh = isinstance(loader, DataLoaderSpec) and loader.num_workers > 0
        self.stream = None

    def _batches(self):
        if self.stream is None:
            train = self.config.train
            self.stream = batch_stream(
                train.loader, self.data, self.on_cpu, train.global_batch_size, _ENDLESS, self.generator, self.device
            )
            if self.fresh:
                next(self.stream)  # start the workers before the clock
        return self.stream

    def block(self, steps: int) -> float:
        """Train ``steps`` steps; return their wall seconds (synchronised on CUDA)."""
        stream = self._batches()
        watch = Stopwatch(self.device, training=True)
        with precision.matmul_mode(self.config.techniques.precision, self.device), watch:
            for _ in range(steps):
                train_step(self.trainer, *next(stream))
        if self.fresh:
            self.stream.close()
            self.stream = None
        return watch.elapsed_s


def time_pair(
    pair: TimingPair,
    device: torch.device,
    *,
    blocks: int | None = None,
    min_block_s: float | None = None,
    seed: int = 0,
) -> PairTiming:
    """Time ``pair`` in ``blocks`` pairs of interleaved blocks (defaults from the scenario's ``step_timing``).

    Each side first runs :data:`WARMUP_STEPS` untimed-for-the-result steps, whose mean sets its steps per block
    (at least one, enough to last ``min_block_s``).

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
    status, steps, warm = "ok", {}, {}
    sides: dict[str, TimedCase] = {}
    try:  # building the sides (data, model, compile) can run out of memory as well
        sides = {"case": TimedCase(pair.case, device, seed), "against": TimedCase(pair.reference, device, seed)}
        warm = {name: side.block(WARMUP_STEPS) / WARMUP_STEPS for name, side in sides.items()}
        steps = {name: max(1, math.ceil(min_block_s / max(s, 1e-9))) for name, s in warm.items()}
        for k in range(blocks):
            order = ("case", "against") if k % 2 == 0 else ("against", "case")
            seconds = {name: sides[name].block(steps[name]) for name in order}
            timed.append(Block(order[0], seconds["case"], steps["case"], seconds["against"], steps["against"]))
    except torch.cuda.OutOfMemoryError:
        status, steps, warm = "oom", {}, {}
    if status == "oom":
        sides.clear()  # drop the models before handing their cached memory back
        release_cached_memory(device)
    return PairTiming(**result, status=status, block_steps=steps, warmup_step_s=warm, blocks=timed)
