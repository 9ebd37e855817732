"""One run, one plain function: :func:`train_run`.

Timing rules (the AlgoPerf and MLPerf Training convention; airbench's and nanoGPT's timing of the training steps): data
preload, model build, FLOP counting, pretraining, compile and warm-up happen before the timed region and are reported
apart; the loop (:mod:`benchsuite.training.loop`) times segments of training steps between untimed evaluations. A
data-parallel run calls this on every rank with its team (:mod:`benchsuite.training.ranks`); rank 0's result is the
run's.
"""

from __future__ import annotations

import contextlib

import torch

from benchsuite.scenario.matrix import Run
from benchsuite.specs.case import CaseConfig
from benchsuite.specs.serving import DataLoaderSpec
from benchsuite.telemetry import mfu
from benchsuite.telemetry.clock import Stopwatch
from benchsuite.telemetry.sampler import DEFAULT_INTERVAL_S, Sampler
from benchsuite.training import precision
from benchsuite.training.batches import batches
from benchsuite.training.build import build_trainer, compile_model, train_step
from benchsuite.training.faults import Stage, first_line, is_out_of_memory, oom_message, release_cached_memory
from benchsuite.training.loop import Budget, TrainingLoop
from benchsuite.training.outcome import RunResult
from benchsuite.training.pretrain import pretrain
from benchsuite.training.ranks import Solo, communication_share
from benchsuite.training.record import Measured, Prepared, Trained, assemble, rank_info, telemetry_of, unfinished
from benchsuite.workloads.datasets import Dataset, load_dataset


class UnsupportedCase(ValueError):
    """The case cannot run on this device (e.g. fp16 autocast on a CPU); the message says why."""


def warm_up(config: CaseConfig, data: Dataset, device: torch.device, steps: int, team=None) -> float:
    """Run ``steps`` steps on a throwaway model, optimizer and precision setup (wrapped for the team's ranks, so
    their collectives warm up too); return their seconds (untimed)."""
    if steps == 0:
        return 0.0
    team = team or Solo()
    trainer = build_trainer(config, data, device, total_steps=steps, steps_per_epoch=steps)
    trainer.model = team.wrap(trainer.model, device)
    watch = Stopwatch(device)
    with watch:
        for idx in batches(len(data.train_y), config.train.global_batch_size, steps, torch.Generator(), device):
            train_step(trainer, *team.shard(data.train_x[idx], data.train_y[idx]))
    return watch.elapsed_s


def train_run(
    run: Run,
    device: torch.device,
    *,
    max_steps: int | None = None,
    warmup_steps: int | None = None,
    telemetry_interval_s: float | None = DEFAULT_INTERVAL_S,
    team=None,
) -> RunResult:
    """Train one run until its target is reached (if ``stop_at_target``) or its budget ends.

    Args:
        run: the case and seed; the seed makes the run reproducible (same seed, same curve on CPU).
        device: where data, model and optimizer live.
        max_steps: further cap on the budget (smoke checks).
        warmup_steps: overrides ``train.warmup_steps``.
        telemetry_interval_s: seconds between telemetry samples (NVML + psutil) around the loop; None: off.
        team: the ranks of a data-parallel run (:class:`benchsuite.training.ranks.Ranks`); None: this process alone.

    Returns:
        The run's result with status ``ok``, ``diverged`` (non-finite loss), ``oom`` (out of memory on the GPU or
        the CPU, with the stage it happened in; :func:`benchsuite.training.faults.is_out_of_memory`) or, for a run of
        this process alone, ``failed`` (any other exception, with its first line and stage: the session goes on).
        On the ranks of a data-parallel run another exception propagates (the rank exits, the pool records the run
        ``crashed``): one rank going on alone would leave the others waiting in a collective.

    Raises:
        UnsupportedCase: the case's precision cannot run on ``device``.
    """
    config, device = run.case.config, torch.device(device)
    reason = precision.unsupported_reason(config.techniques.precision, device)
    if reason:
        raise UnsupportedCase(reason)
    stage, solo = Stage(), team is None
    with precision.matmul_mode(config.techniques.precision, device):
        try:
            return _train(run, config, device, max_steps, warmup_steps, telemetry_interval_s, team or Solo(), stage)
        except Exception as error:
            if not (is_out_of_memory(error) or solo):
                raise
            oom = is_out_of_memory(error)
            status, message = ("oom", oom_message(error, stage.name)) if oom else ("failed", first_line(error))
    release_cached_memory(device)  # outside the except block: the traceback's tensors are gone by now
    world_size = (team or Solo()).world_size
    return unfinished(run, device, status, message, stage=stage.name, world_size=world_size)


def _train(
    run: Run,
    config: CaseConfig,
    device: torch.device,
    max_steps: int | None,
    warmup: int | None,
    interval_s: float | None,
    team,
    stage: Stage,
) -> RunResult:
    """The run's steps in order, each named for its job; the result is assembled in one place
    (:func:`benchsuite.training.record.assemble`)."""
    prepared = _prepare(run, config, device, max_steps, warmup, team, stage)
    trained = _train_and_sample(run, config, device, prepared, interval_s, team, stage)
    telemetry, timeline = telemetry_of(trained.sampler, trained.loop, config, device, trained.extension)
    ranks = team.gather(rank_info(team, device, trained.loop, telemetry))
    stage.name = "communication probe"
    ok = trained.status == "ok"
    comm = communication_share(prepared.trainer, prepared.data, config, device, team) if ok else None
    return assemble(run, device, prepared, trained, Measured(telemetry, timeline, ranks, comm), team.world_size)


def _prepare(
    run: Run, config: CaseConfig, device: torch.device, max_steps: int | None, warmup: int | None, team, stage: Stage
) -> Prepared:
    """Everything before the timed region, each part timed apart: data load, warm-up, model build, FLOP count,
    pretraining (``train.pretrain``, :mod:`benchsuite.training.pretrain`: its steps are ``pretrain_s``, its data load
    and model build part of ``setup_s``; before the wrap and compile, which then start from its weights), compile.
    The model is wrapped for the team's ranks before it is compiled: TorchDynamo compiles a
    DistributedDataParallel module with its DDPOptimizer, which breaks the graph at DDP's bucket boundaries so that
    each bucket's all-reduce overlaps the rest of backward; compiled first and wrapped after, the whole backward is one
    graph and every all-reduce waits for its end (PyTorch's torch.compiler FAQ, "Do you support Distributed code?")."""
    setup = Stopwatch(device)
    with setup:
        data = load_dataset(config.workload.dataset, device)
    budget = Budget.of(config.train, len(data.train_y), max_steps)
    warmup_n = config.train.warmup_steps if warmup is None else warmup
    stage.name = "warm-up"
    warmup_s = warm_up(config, data, device, warmup_n, team)
    stage.name = "model build"
    with setup:
        torch.manual_seed(run.seed)
        trainer = build_trainer(config, data, device, budget.total_steps, budget.steps_per_epoch)
    stage.name = "FLOP count"
    first = slice(0, min(config.train.global_batch_size, len(data.train_y)))
    flops_sample = mfu.flops_per_sample(
        trainer.model, data.train_x[first], data.train_y[first], config.model_dump_json()
    )
    stage.name = "pretrain"
    pretrained = pretrain(config, trainer, device, run.seed, setup, max_steps) if config.train.pretrain else None
    trainer.model = team.wrap(trainer.model, device)
    stage.name = "compile"
    compile_s = compile_model(trainer, config, data, team) if config.techniques.compile else 0.0
    return Prepared(
        data,
        budget,
        trainer,
        warmup_n,
        warmup_s,
        setup.elapsed_s,
        compile_s,
        flops_sample,
        pretrain_s=pretrained.seconds if pretrained else 0.0,
        pretrain_steps=pretrained.steps if pretrained else 0,
    )


def extension_s(config: CaseConfig, timed_s: float, eligible: bool, team) -> float:
    """Seconds to go on training after the run so that the telemetry window lasts ``train.min_timed_s``; 0: none.

    Every rank of a data-parallel run gets the same answer, the largest over the ranks
    (:meth:`benchsuite.training.ranks.Solo.maximum`): each rank's timed seconds come from its own clock, and ranks that
    decided apart (one extending, one not) would enter different collectives and hang. One process decides alone, as
    before.

    Args:
        timed_s: this rank's timed training seconds.
        eligible: whether this rank would lengthen the window at all (telemetry on, run ``ok``).
        team: the run's ranks (:class:`benchsuite.training.ranks.Ranks`) or :class:`Solo`.
    """
    missing = config.train.min_timed_s - timed_s if eligible else 0.0
    return max(0.0, team.maximum(max(0.0, missing)))


def _train_and_sample(
    run: Run, config: CaseConfig, device: torch.device, prepared: Prepared, interval_s: float | None, team, stage: Stage
) -> Trained:
    """The timed loop under the telemetry sampler, then (when the scenario asks for a minimum timed duration) the
    extension that lengthens the telemetry window."""
    stage.name = "training"  # the loop records its own faults (first evaluation included)
    loop = TrainingLoop(config, prepared.data, prepared.budget, device, team)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    loader = config.train.loader
    workers = isinstance(loader, DataLoaderSpec) and loader.num_workers > 0
    sampler = Sampler(device, interval_s, children=workers) if interval_s else None
    with sampler or contextlib.nullcontext():
        status, steps = loop.run(prepared.trainer, torch.Generator().manual_seed(run.seed))
        missing = extension_s(config, loop.train_watch.elapsed_s, status == "ok" and sampler is not None, team)
        stage.name = "telemetry extension"
        generator = torch.Generator().manual_seed(run.seed + 1)
        extension = loop.extend(prepared.trainer, missing, generator) if missing > 0 else []
    return Trained(loop, status, steps, sampler, extension)
