"""A case trained outside its runs: its data, a trainer built from a seed, and a stream of batches, stepped on demand.
Paired step timing trains two of them in alternating blocks (:mod:`benchsuite.training.step_timing`); the profiled
window steps one under the profiler (:mod:`benchsuite.profiling.window`). Neither touches the runs' timed regions or
their results.
"""

from __future__ import annotations

import contextlib
import math

import torch

from benchsuite.scenario.matrix import Case
from benchsuite.specs.serving import DataLoaderSpec
from benchsuite.telemetry import phases
from benchsuite.telemetry.clock import Stopwatch
from benchsuite.training import precision
from benchsuite.training.batches import batch_stream
from benchsuite.training.build import Trainer, build_trainer, compile_model, train_step, unmarked
from benchsuite.training.ranks import Solo
from benchsuite.workloads.datasets import load_dataset

ENDLESS = 10**9
"""Steps a stream may serve; schedules are built for it, so they never run out."""


class StandaloneCase:
    """One case with its data on ``device``, a trainer from ``seed`` (wrapped for the ``team``'s ranks, then compiled
    when the case asks, both inside the case's TF32 mode: :meth:`precision_mode`), and a stream of batches from the
    same seed.

    Args:
        team: the ranks (:class:`benchsuite.training.ranks.Ranks`) of a data-parallel case; None: this process.
    """

    def __init__(self, case: Case, device: torch.device, seed: int, team=None) -> None:
        self.config, self.device, self.team = case.config, device, team or Solo()
        self.data = load_dataset(self.config.workload.dataset, device)
        self.on_cpu = (
            self.data if device.type == "cpu" else load_dataset(self.config.workload.dataset, torch.device("cpu"))
        )
        torch.manual_seed(seed)
        per_epoch = math.ceil(len(self.data.train_y) / self.config.train.global_batch_size)
        with self.precision_mode():  # compilation reads the TF32 switches: built for the mode its steps run in
            self.trainer: Trainer = build_trainer(self.config, self.data, device, ENDLESS, per_epoch)
            self.trainer.model = self.team.wrap(self.trainer.model, device)
            if self.config.techniques.compile:  # after the DDP wrap, as the runs compile (compile_model)
                compile_model(self.trainer, self.config, self.data, self.team)
        self.generator = torch.Generator().manual_seed(seed)
        loader = self.config.train.loader
        # worker processes keep loading between blocks: each block gets its own, shut down after it
        self.fresh = isinstance(loader, DataLoaderSpec) and loader.num_workers > 0
        self.stream = None

    def _batches(self):
        if self.stream is None:
            train = self.config.train
            self.stream = batch_stream(
                train.loader,
                self.data,
                self.on_cpu,
                train.global_batch_size,
                ENDLESS,
                self.generator,
                self.device,
                sampler=train.sampler,
                resizing=train.progressive_resizing,
            )
            if self.fresh:
                next(self.stream)  # start the workers before the clock
        return self.stream

    def step(self, phase=unmarked) -> None:
        """One training step on this rank's share of the next global batch, its phases marked by ``phase``."""
        with phase(phases.NEXT_BATCH):
            batch = next(self._batches())
        train_step(self.trainer, *self.team.shard(*batch), phase=phase)

    def precision_mode(self) -> contextlib.AbstractContextManager:
        """The case's TF32 switches (on CUDA) for the duration of its steps."""
        return precision.matmul_mode(self.config.techniques.precision, self.device)

    def end_block(self) -> None:
        """Shut a DataLoader's worker processes down after a block (a new block starts them again)."""
        if self.fresh and self.stream is not None:
            self.stream.close()
            self.stream = None

    def block(self, steps: int, counted: bool = True) -> float:
        """Train ``steps`` steps; return their wall seconds (synchronised on CUDA, after a barrier on N ranks;
        ``counted`` in pytest-benchmark's timed-region figure of the item)."""
        self._batches()  # a DataLoader's workers start before the clock
        watch = Stopwatch(self.device, training=counted, barrier=self.team.barrier)
        with self.precision_mode(), watch:
            for _ in range(steps):
                self.step()
        self.end_block()
        return watch.elapsed_s
